//! What this machine runs models on ([`Accelerator`]): found once per load, from
//! `nvidia-smi` and the Vulkan drivers installed; `CLARA_ACCELERATOR` (cuda, metal,
//! vulkan or cpu) overrides it.

use std::path::Path;
use std::time::Duration;

use crate::platform::{Accelerator, Platform};

/// How long `nvidia-smi` may take to answer.
const NVIDIA_SMI_WITHIN: Duration = Duration::from_secs(3);

/// The environment variable that overrides what is found.
pub const OVERRIDE: &str = "CLARA_ACCELERATOR";

/// This machine's accelerator.
pub fn detect() -> Accelerator {
    if let Some(chosen) = std::env::var(OVERRIDE)
        .ok()
        .and_then(|name| name.parse().ok())
    {
        return chosen;
    }
    let platform = Platform::current();
    let nvidia = platform != Platform::Macos && nvidia_smi_answers();
    Accelerator::of_machine(platform, std::env::consts::ARCH, nvidia, vulkan_driver())
}

/// `nvidia-smi -L` lists a GPU in time.
fn nvidia_smi_answers() -> bool {
    let (sender, answer) = std::sync::mpsc::channel();
    // A thread, so that a hung driver costs a few seconds, not the start-up.
    std::thread::spawn(move || {
        let mut command = std::process::Command::new("nvidia-smi");
        command.arg("-L");
        #[cfg(windows)]
        {
            use std::os::windows::process::CommandExt;
            command.creation_flags(windows_sys::Win32::System::Threading::CREATE_NO_WINDOW);
        }
        let listed = command.output().is_ok_and(|output| {
            output.status.success() && String::from_utf8_lossy(&output.stdout).contains("GPU")
        });
        let _ = sender.send(listed);
    });
    answer.recv_timeout(NVIDIA_SMI_WITHIN).unwrap_or(false)
}

/// A Vulkan driver for real hardware is installed, and (Linux) a GPU is there to use it:
/// Mesa installs its drivers' descriptions whether or not the machine has such a GPU, and
/// the software renderer (llvmpipe) does not count.
fn vulkan_driver() -> bool {
    if cfg!(windows) {
        let root = std::env::var("SystemRoot").unwrap_or_else(|_| r"C:\Windows".to_string());
        return Path::new(&root)
            .join("System32")
            .join("vulkan-1.dll")
            .is_file();
    }
    let driver = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"]
        .iter()
        .filter_map(|folder| std::fs::read_dir(folder).ok())
        .flatten()
        .filter_map(Result::ok)
        .any(|entry| {
            let name = entry.file_name().to_string_lossy().to_lowercase();
            name.ends_with(".json") && !name.contains("lvp")
        });
    let gpu = std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|entry| entry.file_name().to_string_lossy().starts_with("renderD"))
    });
    driver && gpu
}
