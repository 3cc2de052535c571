//! Installing the peers, our own release binary and the Docker engine, and saying which
//! versions ran.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::systems::run;

/// Where everything the benchmark installs or builds is found.
pub struct Installed {
    /// The folder supervisord and pm2 are installed under.
    pub peers: PathBuf,
    /// Our `clara-supervisor`, built in release mode.
    pub clara: PathBuf,
    /// `supervisord` in its virtual environment.
    pub supervisord: PathBuf,
    /// `pm2` under node_modules.
    pub pm2: PathBuf,
    /// The folder of the s6 programs.
    pub s6_bin: PathBuf,
    /// `docker-compose`.
    pub compose: PathBuf,
    /// Whether a Docker engine answers and the test image exists.
    pub docker: bool,
}

/// Installs what is missing (unless `install` is false) under `target/bench/peers`, and
/// builds our binary into `target`.
pub fn prepare(workspace: &Path, target: &Path, install: bool) -> Result<Installed, String> {
    let peers = target.join("bench").join("peers");
    if install {
        eprintln!("==> installing the peers where missing, and starting the Docker engine");
        let status = Command::new("bash")
            .arg("-c")
            .arg(
                "set -e; source scripts/lib/toolchain.sh; source scripts/lib/docker.sh; \
                 source scripts/lib/peers.sh; ensure_peers \"$1\"; \
                 if ensure_docker && build_test_images; then :; \
                 else echo 'no Docker engine: the container scenarios will be skipped' >&2; fi",
            )
            .arg("bash")
            .arg(&peers)
            .current_dir(workspace)
            .status()
            .map_err(|error| format!("cannot run bash: {error}"))?;
        if !status.success() {
            return Err(format!("installing the peers failed ({status})"));
        }
    }
    eprintln!("==> building clara-supervisor (release)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "clara-supervisor",
            "--bin",
            "clara-supervisor",
        ])
        .current_dir(workspace)
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !status.success() {
        return Err(format!("building clara-supervisor failed ({status})"));
    }
    Ok(Installed {
        clara: target.join("release").join("clara-supervisor"),
        supervisord: peers.join("venv").join("bin").join("supervisord"),
        pm2: peers
            .join("npm")
            .join("node_modules")
            .join(".bin")
            .join("pm2"),
        s6_bin: PathBuf::from("/usr/bin"),
        compose: PathBuf::from("docker-compose"),
        docker: run(
            Path::new("docker"),
            &["image", "inspect", crate::systems::IMAGE],
            &[],
        )
        .is_ok(),
        peers,
    })
}

/// The release app and its Debian package: those already built in `built` (a cargo
/// target folder), or built now into `target` with `npm ci && npm run build`, as a release
/// is made.
pub fn app(
    workspace: &Path,
    target: &Path,
    built: Option<&Path>,
) -> Result<crate::scenarios::AppBuild, String> {
    let folder = match built {
        Some(folder) => folder.to_path_buf(),
        None => {
            eprintln!("==> building the release app and its .deb (npm ci && npm run build)");
            for args in [
                &["ci", "--no-audit", "--no-fund"][..],
                &["run", "build", "--", "--bundles", "deb", "--ci"],
            ] {
                let status = Command::new("npm")
                    .args(args)
                    .current_dir(workspace)
                    .env("CARGO_TARGET_DIR", target)
                    .status()
                    .map_err(|error| format!("cannot run npm: {error}"))?;
                if !status.success() {
                    return Err(format!("npm {} failed ({status})", args.join(" ")));
                }
            }
            target.to_path_buf()
        }
    };
    let release = folder.join("release");
    let debs = release.join("bundle").join("deb");
    let deb = std::fs::read_dir(&debs)
        .map_err(|error| format!("no package in {}: {error}", debs.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|e| e == "deb"))
        .ok_or_else(|| format!("no .deb in {}", debs.display()))?;
    Ok(crate::scenarios::AppBuild {
        binary: release.join("claraverse"),
        deb,
    })
}

/// The version of each system, as the report states it.
pub fn versions(installed: &Installed) -> Vec<(String, String)> {
    let first_line = |program: &Path, args: &[&str]| {
        run(program, args, &[])
            .map(|out| out.lines().next().unwrap_or_default().to_string())
            .unwrap_or_else(|error| format!("unknown ({error})"))
    };
    let pm2_version = std::fs::read_to_string(
        installed
            .peers
            .join("npm")
            .join("node_modules")
            .join("pm2")
            .join("package.json"),
    )
    .ok()
    .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
    .and_then(|package| package["version"].as_str().map(str::to_string))
    .unwrap_or_else(|| "unknown".to_string());
    vec![
        (
            crate::results::OURS.to_string(),
            format!(
                "{} ({})",
                first_line(&installed.clara, &["--version"]),
                first_line(Path::new("git"), &["rev-parse", "--short", "HEAD"])
            ),
        ),
        (
            "supervisord".to_string(),
            format!(
                "{} (Python {})",
                first_line(&installed.supervisord, &["--version"]),
                first_line(
                    Path::new("python3"),
                    &["-c", "import sys; print(sys.version.split()[0])"]
                )
            ),
        ),
        (
            "pm2".to_string(),
            format!(
                "{pm2_version} (Node.js {})",
                first_line(Path::new("node"), &["--version"])
            ),
        ),
        (
            "s6".to_string(),
            first_line(Path::new("dpkg-query"), &["-W", "-f", "${Version}", "s6"]),
        ),
        (
            "docker-compose".to_string(),
            format!(
                "{} (Docker Engine {})",
                first_line(&installed.compose, &["version", "--short"]),
                first_line(
                    Path::new("docker"),
                    &["version", "--format", "{{.Server.Version}}"]
                )
            ),
        ),
        (
            "process-compose".to_string(),
            "not installed: it is in none of the package registries this machine reaches"
                .to_string(),
        ),
    ]
}

/// Facts about this machine, for the report.
pub fn machine() -> serde_json::Map<String, serde_json::Value> {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, model)| model.trim().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    let memory_gib = read("/proc/meminfo")
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .map(|kib| (kib / 1024.0 / 1024.0 * 10.0).round() / 10.0);
    let os = read("/etc/os-release")
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|name| name.trim_matches('"').to_string())
        .unwrap_or_else(|| "unknown".to_string());
    let mut facts = serde_json::Map::new();
    facts.insert("os".into(), os.into());
    facts.insert(
        "kernel".into(),
        read("/proc/sys/kernel/osrelease").trim().into(),
    );
    facts.insert("cpu".into(), cpu.into());
    facts.insert(
        "cores".into(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
            .into(),
    );
    facts.insert("memory_gib".into(), memory_gib.into());
    facts.insert(
        "date".into(),
        humantime::format_rfc3339_seconds(std::time::SystemTime::now())
            .to_string()
            .into(),
    );
    facts
}
