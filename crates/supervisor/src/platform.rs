//! The operating systems a definitions file can target, and which one we run on.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An operating system that `[services.X.platform.NAME]` overrides can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Linux, any distribution.
    Linux,
    /// macOS.
    Macos,
    /// Windows.
    Windows,
}

impl Platform {
    /// Every platform, in the order used in messages.
    pub const ALL: [Platform; 3] = [Platform::Linux, Platform::Macos, Platform::Windows];

    /// The platform this program was built for. Other Unix systems count as Linux:
    /// they share its paths and process model closely enough for service definitions.
    pub fn current() -> Platform {
        if cfg!(target_os = "windows") {
            Platform::Windows
        } else if cfg!(target_os = "macos") {
            Platform::Macos
        } else {
            Platform::Linux
        }
    }

    /// The name used in definitions files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Linux => "linux",
            Platform::Macos => "macos",
            Platform::Windows => "windows",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What runs models fastest on a machine: the build of a program with several (the
/// llama.cpp server's releases) to choose for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Accelerator {
    /// An NVIDIA GPU, through CUDA.
    Cuda,
    /// Apple silicon's GPU, through Metal.
    Metal,
    /// Any GPU with a Vulkan driver.
    Vulkan,
    /// The processor alone.
    #[default]
    Cpu,
}

impl Accelerator {
    /// Every accelerator, in the order used in messages.
    pub const ALL: [Accelerator; 4] = [
        Accelerator::Cuda,
        Accelerator::Metal,
        Accelerator::Vulkan,
        Accelerator::Cpu,
    ];

    /// The name used in definitions files and settings.
    pub fn name(self) -> &'static str {
        match self {
            Accelerator::Cuda => "cuda",
            Accelerator::Metal => "metal",
            Accelerator::Vulkan => "vulkan",
            Accelerator::Cpu => "cpu",
        }
    }

    /// The builds worth taking on a machine with this accelerator, best first: what a
    /// release does not offer is skipped (a CUDA machine runs Vulkan builds too).
    pub fn preference(self) -> &'static [Accelerator] {
        match self {
            Accelerator::Cuda => &[Accelerator::Cuda, Accelerator::Vulkan, Accelerator::Cpu],
            Accelerator::Metal => &[Accelerator::Metal, Accelerator::Cpu],
            Accelerator::Vulkan => &[Accelerator::Vulkan, Accelerator::Cpu],
            Accelerator::Cpu => &[Accelerator::Cpu],
        }
    }

    /// The accelerator of a machine, from what was found on it: CUDA where `nvidia-smi`
    /// answers, Metal on Apple silicon, Vulkan where its driver is installed, otherwise
    /// the processor.
    pub fn of_machine(
        platform: Platform,
        arch: &str,
        nvidia_answers: bool,
        vulkan: bool,
    ) -> Accelerator {
        match platform {
            Platform::Macos if arch == "aarch64" => Accelerator::Metal,
            // No NVIDIA GPU, and no Vulkan build to speak of, on a Mac.
            Platform::Macos => Accelerator::Cpu,
            _ if nvidia_answers => Accelerator::Cuda,
            _ if vulkan => Accelerator::Vulkan,
            _ => Accelerator::Cpu,
        }
    }
}

impl fmt::Display for Accelerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Accelerator {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Accelerator::ALL
            .into_iter()
            .find(|accelerator| accelerator.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                format!("unknown accelerator \"{name}\" (expected cuda, metal, vulkan or cpu)")
            })
    }
}

/// The error for a platform name that is not one of `linux`, `macos`, `windows`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform \"{0}\" (expected linux, macos or windows)")]
pub struct UnknownPlatform(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatform;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|platform| platform.name() == name)
            .ok_or_else(|| UnknownPlatform(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_machine_gets_the_accelerator_it_can_use() {
        use Accelerator::{Cpu, Cuda, Metal, Vulkan};
        // (platform, arch, nvidia-smi answers, Vulkan driver) → accelerator
        let table = [
            (Platform::Linux, "x86_64", true, true, Cuda),
            (Platform::Linux, "x86_64", true, false, Cuda),
            (Platform::Linux, "x86_64", false, true, Vulkan),
            (Platform::Linux, "x86_64", false, false, Cpu),
            (Platform::Linux, "aarch64", false, true, Vulkan),
            (Platform::Linux, "aarch64", false, false, Cpu),
            (Platform::Windows, "x86_64", true, true, Cuda),
            (Platform::Windows, "x86_64", false, true, Vulkan),
            (Platform::Windows, "x86_64", false, false, Cpu),
            (Platform::Macos, "aarch64", false, false, Metal),
            (Platform::Macos, "aarch64", true, true, Metal),
            (Platform::Macos, "x86_64", false, true, Cpu),
            (Platform::Macos, "x86_64", true, false, Cpu),
        ];
        for (platform, arch, nvidia, vulkan, expected) in table {
            assert_eq!(
                Accelerator::of_machine(platform, arch, nvidia, vulkan),
                expected,
                "{platform} {arch} nvidia={nvidia} vulkan={vulkan}"
            );
        }
    }

    #[test]
    fn a_build_not_offered_falls_back_to_the_next_best() {
        assert_eq!(
            Accelerator::Cuda.preference(),
            [Accelerator::Cuda, Accelerator::Vulkan, Accelerator::Cpu]
        );
        assert_eq!(
            Accelerator::Metal.preference(),
            [Accelerator::Metal, Accelerator::Cpu]
        );
        for accelerator in Accelerator::ALL {
            assert_eq!(accelerator.preference().last(), Some(&Accelerator::Cpu));
            assert_eq!(accelerator.name().parse(), Ok(accelerator));
        }
        assert_eq!(
            "tpu".parse::<Accelerator>(),
            Err("unknown accelerator \"tpu\" (expected cuda, metal, vulkan or cpu)".to_string())
        );
    }

    #[test]
    fn names_round_trip() {
        for platform in Platform::ALL {
            assert_eq!(platform.name().parse::<Platform>(), Ok(platform));
        }
    }

    #[test]
    fn unknown_name_is_explained() {
        let error = "darwin".parse::<Platform>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown platform \"darwin\" (expected linux, macos or windows)"
        );
    }

    #[test]
    fn current_platform_matches_the_build() {
        #[cfg(target_os = "linux")]
        assert_eq!(Platform::current(), Platform::Linux);
        #[cfg(target_os = "macos")]
        assert_eq!(Platform::current(), Platform::Macos);
        #[cfg(target_os = "windows")]
        assert_eq!(Platform::current(), Platform::Windows);
    }
}
