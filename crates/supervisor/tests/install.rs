//! Programs downloaded before a native service's first start, against a real HTTP server
//! on 127.0.0.1 serving archives these tests make: fetched with progress, verified,
//! unpacked and started; every way a download goes wrong gives its sentence and leaves no
//! partial program behind.

#![cfg(unix)]

mod support;

use std::path::Path;
use std::time::Duration;

use clara_supervisor::definitions::Variables;
use clara_supervisor::definitions::{Archive, Checksum, Download, Install};
use clara_supervisor::diagnostics::SourceFile;
use clara_supervisor::events::EventKind;
use clara_supervisor::install::{InstallError, Installer, Outcome, STALL_TIMEOUT, check_folder};
use clara_supervisor::load::{self, LoadOptions};
use clara_supervisor::manager::ProgramsChoice;
use clara_supervisor::persist::Setup;
use clara_supervisor::platform::{Accelerator, Platform};
use clara_supervisor::runtime::PullProgress;
use clara_supervisor::selection::FeatureChoice;
use clara_supervisor::state::ServiceState;
use clara_supervisor::status::FailureCause;
use support::release::{ReleaseServer, Reply, checksums, sha256, tar_gz, zip};
use support::{Harness, PATIENCE};
use tokio::sync::mpsc;

/// The stand-in program: says its version when asked; else says it is ready, then waits
/// to be stopped.
const TOOL: &[u8] = b"#!/bin/sh
if [ \"$1\" = --version ]; then echo \"tool 1.0\"; exit 0; fi
echo \"tool 1.0 ready\"
exec sleep 300
";

/// The release's archive: the program plus a file beside it, as real releases have.
fn release() -> Vec<u8> {
    tar_gz(&[("tool", 0o755, TOOL), ("README.md", 0o644, b"# tool\n")])
}

fn definitions(server: &ReleaseServer, critical: bool) -> String {
    format!(
        r#"
[services.tool]
critical = {critical}
command = ["${{PROGRAM_DIR}}/tool"]
health = {{ log = "ready" }}

[services.tool.install]
program = "tool"
version = "1.0"
url = "{}"
checksums = "{}"

[services.other]
command = ["sleep", "300"]

[services.bridge]
command = ["sleep", "300"]
depends_on = {{ tool = "healthy" }}
"#,
        server.url("/tool_{version}.tar.gz"),
        server.url("/checksums.txt"),
    )
}

async fn release_server() -> ReleaseServer {
    let archive = release();
    ReleaseServer::start([
        (
            "/checksums.txt",
            Reply::Bytes(checksums(&[
                ("tool_0.9.tar.gz", b"an older release"),
                ("tool_1.0.tar.gz", &archive),
            ])),
        ),
        ("/tool_1.0.tar.gz", Reply::Bytes(archive)),
    ])
    .await
}

/// The download progress events of `name` seen so far.
fn progress_of(harness: &Harness, name: &str) -> Vec<(u64, u64)> {
    harness
        .seen
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::PullProgress {
                name: n,
                done,
                total,
            } if n == name => Some((*done, *total)),
            _ => None,
        })
        .collect()
}

/// What is in `folder`, by name.
fn names_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .map(|entry| {
                    entry
                        .expect("an entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_missing_program_is_downloaded_verified_unpacked_then_started() {
    let server = release_server().await;
    let text = definitions(&server, true);
    let mut harness = Harness::up(&text).await;
    harness.wait_state("tool", ServiceState::Running).await;
    let size = release().len() as u64;
    let progress = progress_of(&harness, "tool");
    assert_eq!(progress.first(), Some(&(0, size)), "{progress:?}");
    assert_eq!(progress.last(), Some(&(size, size)), "{progress:?}");
    let versions = harness.path("home/programs/tool");
    assert_eq!(names_in(&versions), ["1.0"], "no work folder is left");
    assert_eq!(names_in(&versions.join("1.0")), ["README.md", "tool"]);
    assert_eq!(server.hits("/tool_1.0.tar.gz"), 1);
    assert_eq!(server.hits("/checksums.txt"), 1);
    harness.shutdown().await;

    // A second start uses the installed program without downloading it again.
    let dir = harness.dir;
    let mut again = Harness::in_dir(&text, dir, None).await;
    again.manager.start_all().await.expect("starts");
    again.wait_state("tool", ServiceState::Running).await;
    assert_eq!(progress_of(&again, "tool"), []);
    assert_eq!(server.hits("/tool_1.0.tar.gz"), 1);
    again.shutdown().await;
}

#[tokio::test]
async fn a_failed_download_is_said_and_leaves_the_rest_running_until_downloaded_again() {
    let server = release_server().await;
    server.set("/tool_1.0.tar.gz", Reply::Status(404));
    let mut harness = Harness::up(&definitions(&server, true)).await;
    let reason = harness.wait_state("tool", ServiceState::Error).await;
    let sentence = format!(
        "the download of tool 1.0 from {} answered 404 Not Found",
        server.url("/tool_1.0.tar.gz")
    );
    assert_eq!(
        reason.as_deref(),
        Some(format!("{sentence}; trying again in 1h").as_str())
    );
    // Critical, yet something this machine lacks: the start-up goes on without it, and
    // what needs it waits.
    assert_eq!(
        harness.wait_startup().await,
        EventKind::StartupComplete {
            degraded: vec!["bridge".into(), "tool".into()]
        }
    );
    let bridge = harness.status_of("bridge").await;
    assert_eq!(bridge.state, ServiceState::Waiting);
    assert_eq!(
        bridge.reason,
        Some(format!(
            "waiting for tool, which cannot start yet: {sentence}"
        ))
    );
    let other = harness.status_of("other").await;
    assert_eq!(other.state, ServiceState::Running);
    let tool = harness.status_of("tool").await;
    let error = tool.last_error.expect("the failure is kept");
    assert_eq!(error.cause, FailureCause::ProgramDownload);
    assert_eq!(error.message, sentence);
    assert_eq!(
        names_in(&harness.path("home/programs/tool")),
        Vec::<String>::new()
    );

    // "Download again": once the release is there, a restart fetches it and starts.
    server.set("/tool_1.0.tar.gz", Reply::Bytes(release()));
    harness
        .manager
        .restart_service("tool")
        .await
        .expect("restarts");
    harness.wait_state("tool", ServiceState::Running).await;
    harness.wait_state("bridge", ServiceState::Running).await;
    harness.shutdown().await;
}

/// A download of `archive` from `server`'s `path`, verified against `sum`.
fn download(server: &ReleaseServer, path: &str, archive: Archive, sum: &str) -> Download {
    Download {
        program: "tool".into(),
        version: "1.0".into(),
        url: server.url(path),
        checksum: Checksum::Sha256(sum.into()),
        archive,
        into: None,
        variant: None,
        variants: Vec::new(),
    }
}

/// An install of that one download into `home`.
fn install(
    server: &ReleaseServer,
    path: &str,
    archive: Archive,
    sum: &str,
    home: &Path,
) -> Install {
    Install {
        parts: vec![download(server, path, archive, sum)],
        folder: home.join("programs/tool/1.0"),
    }
}

/// Runs one install; its outcome and the progress it reported.
async fn ensure(
    installer: &Installer,
    install: &Install,
) -> (Result<Outcome, InstallError>, Vec<PullProgress>) {
    let (progress, mut updates) = mpsc::unbounded_channel();
    let outcome = tokio::time::timeout(PATIENCE, installer.ensure(install, &progress))
        .await
        .expect("the install ends in time");
    drop(progress);
    let mut seen = Vec::new();
    while let Some(update) = updates.recv().await {
        seen.push(update);
    }
    (outcome, seen)
}

#[tokio::test]
async fn a_zip_and_a_plain_file_install_as_runnable_programs() {
    let archive = zip(&[("bin/tool", 0o755, TOOL)]);
    let server = ReleaseServer::start([
        ("/tool.zip", Reply::Bytes(archive.clone())),
        ("/tool", Reply::Bytes(TOOL.to_vec())),
    ])
    .await;
    let home = tempfile::tempdir().expect("a temporary folder");
    let installer = Installer::new(STALL_TIMEOUT);
    for (path, archive, sum, program) in [
        // Its one folder, bin/, is unwrapped.
        ("/tool.zip", Archive::Zip, sha256(&archive), "tool"),
        ("/tool", Archive::File, sha256(TOOL), "tool"),
    ] {
        let _ = std::fs::remove_dir_all(home.path().join("programs"));
        let install = install(&server, path, archive, &sum, home.path());
        let (outcome, progress) = ensure(&installer, &install).await;
        assert_eq!(outcome, Ok(Outcome::Installed), "{path}");
        assert!(
            progress
                .last()
                .is_some_and(|last| last.done == last.total && last.done > 0)
        );
        let output = std::process::Command::new(install.folder.join(program))
            .arg("--version")
            .output()
            .expect("the installed program runs");
        assert_eq!(output.stdout, b"tool 1.0\n", "{path}");
        let (again, progress) = ensure(&installer, &install).await;
        assert_eq!(
            (again, progress),
            (Ok(Outcome::Present), Vec::new()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn every_failed_download_gives_its_sentence_and_keeps_nothing() {
    let good = release();
    let corrupt = b"this is not an archive at all".to_vec();
    let big: Vec<u8> = (0..4000u32).map(|i| i as u8).collect();
    let server = ReleaseServer::start([
        ("/good.tar.gz", Reply::Bytes(good.clone())),
        ("/corrupt.tar.gz", Reply::Bytes(corrupt.clone())),
        ("/missing.tar.gz", Reply::Status(404)),
        ("/stalls.tar.gz", Reply::StallAfter(big.clone(), 1000)),
        ("/cut.tar.gz", Reply::CutAfter(big.clone(), 1000)),
    ])
    .await;
    let home = tempfile::tempdir().expect("a temporary folder");
    let installer = Installer::new(Duration::from_millis(500));
    let wrong = "0".repeat(64);
    let cases = [
        (
            "/corrupt.tar.gz",
            sha256(&corrupt),
            "could not be unpacked as a tar.gz archive (failed to iterate over archive: invalid gzip header)".to_string(),
        ),
        (
            "/good.tar.gz",
            wrong.clone(),
            format!(
                "does not match its checksum, so it was not installed (expected SHA-256 {wrong}, got {})",
                sha256(&good)
            ),
        ),
        (
            "/missing.tar.gz",
            sha256(&good),
            "answered 404 Not Found".to_string(),
        ),
        (
            "/stalls.tar.gz",
            sha256(&big),
            "stalled: nothing arrived for 500ms".to_string(),
        ),
        (
            "/cut.tar.gz",
            sha256(&big),
            "broke off after 1.0 KB of 4.0 KB".to_string(),
        ),
    ];
    for (path, sum, problem) in cases {
        let install = install(&server, path, Archive::TarGz, &sum, home.path());
        let (outcome, _) = ensure(&installer, &install).await;
        let error = outcome.expect_err(path);
        assert_eq!(
            error.message,
            format!(
                "the download of tool 1.0 from {} {problem}",
                server.url(path)
            )
        );
        assert_eq!(
            names_in(&home.path().join("programs/tool")),
            Vec::<String>::new(),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_killed_download_leaves_no_program_and_its_remains_go_at_the_next_try() {
    let good = release();
    let big: Vec<u8> = (0..4000u32).map(|i| i as u8).collect();
    let server = ReleaseServer::start([("/tool.tar.gz", Reply::StallAfter(big, 1000))]).await;
    let home = tempfile::tempdir().expect("a temporary folder");
    let versions = home.path().join("programs/tool");
    let install = install(
        &server,
        "/tool.tar.gz",
        Archive::TarGz,
        &sha256(&good),
        home.path(),
    );
    let installer = Installer::new(STALL_TIMEOUT);
    let (progress, mut updates) = mpsc::unbounded_channel();
    let download = {
        let (installer, install) = (installer.clone(), install.clone());
        tokio::spawn(async move { installer.ensure(&install, &progress).await })
    };
    // Killed once the first bytes are in: what a quit or a crash does to a download.
    while let Some(update) = updates.recv().await {
        if update.done > 0 {
            break;
        }
    }
    download.abort();
    let _ = download.await;
    let left: Vec<String> = names_in(&versions);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0].starts_with(".1.0-") && left[0].ends_with(".partial"),
        "{left:?}"
    );

    server.set("/tool.tar.gz", Reply::Bytes(good));
    let (outcome, _) = ensure(&installer, &install).await;
    assert_eq!(outcome, Ok(Outcome::Installed));
    assert_eq!(names_in(&versions), ["1.0"]);
}

#[tokio::test]
async fn a_checksums_list_without_the_file_is_said() {
    let good = release();
    let server = ReleaseServer::start([
        ("/tool.tar.gz", Reply::Bytes(good.clone())),
        (
            "/sums.txt",
            Reply::Bytes(checksums(&[("other.tar.gz", &good)])),
        ),
    ])
    .await;
    let home = tempfile::tempdir().expect("a temporary folder");
    let install = Install {
        parts: vec![Download {
            checksum: Checksum::List(server.url("/sums.txt")),
            ..download(&server, "/tool.tar.gz", Archive::TarGz, "")
        }],
        folder: home.path().join("programs/tool/1.0"),
    };
    let (outcome, _) = ensure(&Installer::new(STALL_TIMEOUT), &install).await;
    assert_eq!(
        outcome.expect_err("no sum").message,
        format!(
            "the checksums of tool 1.0 at {} list no SHA-256 for tool.tar.gz",
            server.url("/sums.txt")
        )
    );
    assert_eq!(
        names_in(&home.path().join("programs/tool")),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn several_releases_install_together_into_one_folder() {
    // Like llama-swap (files at the top) and the llama.cpp server (wrapped in a folder of
    // its own, a build per accelerator, its sum in a GitHub release's JSON).
    let swap = tar_gz(&[("tool", 0o755, TOOL), ("LICENSE", 0o644, b"MIT\n")]);
    let server_build = tar_gz(&[
        ("llama-b1/llama-server", 0o755, TOOL),
        ("llama-b1/libggml.so", 0o644, b"a library"),
    ]);
    let name = "llama-b1-bin-ubuntu-vulkan-x64.tar.gz";
    let release = format!(
        r#"{{"tag_name":"b1","assets":[{{"name":"{name}","digest":"sha256:{}"}}]}}"#,
        sha256(&server_build)
    );
    let server = ReleaseServer::start([
        ("/swap.tar.gz", Reply::Bytes(swap.clone())),
        (
            "/b1/llama-b1-bin-ubuntu-vulkan-x64.tar.gz",
            Reply::Bytes(server_build),
        ),
        ("/releases/tags/b1", Reply::Bytes(release.into_bytes())),
    ])
    .await;
    let home = tempfile::tempdir().expect("a temporary folder");
    let install = Install {
        parts: vec![
            download(&server, "/swap.tar.gz", Archive::TarGz, &sha256(&swap)),
            Download {
                program: "llama.cpp server".into(),
                version: "b1".into(),
                url: server.url(&format!("/b1/{name}")),
                checksum: Checksum::List(server.url("/releases/tags/b1")),
                archive: Archive::TarGz,
                into: Some("llama.cpp".into()),
                variant: Some("vulkan".into()),
                variants: vec!["cpu".into(), "vulkan".into()],
            },
        ],
        folder: home.path().join("programs/core/1.0+b1-vulkan"),
    };
    let (outcome, progress) = ensure(&Installer::new(STALL_TIMEOUT), &install).await;
    assert_eq!(outcome, Ok(Outcome::Installed));
    assert!(progress.len() >= 4, "each download reports: {progress:?}");
    assert_eq!(names_in(&install.folder), ["LICENSE", "llama.cpp", "tool"]);
    assert_eq!(
        names_in(&install.folder.join("llama.cpp")),
        ["libggml.so", "llama-server"]
    );
    let output = std::process::Command::new(install.folder.join("llama.cpp/llama-server"))
        .arg("--version")
        .output()
        .expect("the installed server runs");
    assert_eq!(output.stdout, b"tool 1.0\n");

    // One part failing leaves none of them.
    let _ = std::fs::remove_dir_all(home.path().join("programs"));
    server.set(
        "/releases/tags/b1",
        Reply::Bytes(b"{\"assets\":[]}".to_vec()),
    );
    let (outcome, _) = ensure(&Installer::new(STALL_TIMEOUT), &install).await;
    assert_eq!(
        outcome.expect_err("no digest").message,
        format!(
            "the checksums of llama.cpp server b1 at {} list no SHA-256 for {name}",
            server.url("/releases/tags/b1")
        )
    );
    assert_eq!(
        names_in(&home.path().join("programs/core")),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn programs_the_user_has_replace_the_download_at_once() {
    let server = release_server().await;
    server.set("/tool_1.0.tar.gz", Reply::Status(404));
    let text = definitions(&server, false).replace(
        "checksums = ",
        "folder_variable = \"TOOL_DIR\"\nchecksums = ",
    );
    let mut harness = Harness::up(&text).await;
    harness.wait_state("tool", ServiceState::Error).await;

    // The user's own copy, read into the definition as the app reads it.
    let mine = harness.path("my tools");
    std::fs::create_dir_all(&mine).expect("a folder");
    let own = String::from_utf8_lossy(TOOL).replace("tool 1.0 ready", "my own tool ready");
    std::fs::write(mine.join("tool"), own).expect("the program");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(mine.join("tool"), std::fs::Permissions::from_mode(0o755))
            .expect("executable");
    }
    let dir = harness.dir.path().to_path_buf();
    let with_folder = |folder: Option<&Path>| {
        let mut environment = vec![("DIR".to_string(), dir.display().to_string())];
        environment
            .extend(folder.map(|folder| ("TOOL_DIR".to_string(), folder.display().to_string())));
        let options = LoadOptions {
            platform: Platform::current(),
            variables: Variables::new(environment, dir.join("home")),
            features: FeatureChoice::Defaults,
        };
        load::load(&SourceFile::new("test.toml", &text), &options)
            .expect("valid")
            .definitions
            .services["tool"]
            .clone()
    };
    let chosen = with_folder(Some(&mine));
    assert_eq!(chosen.install, None);
    assert_eq!(
        check_folder(&chosen, &mine).await,
        Ok(vec!["tool: tool 1.0".to_string()])
    );
    harness
        .manager
        .use_programs(chosen, ProgramsChoice::Folder(Some(mine.clone())))
        .await
        .expect("used");
    harness.wait_state("tool", ServiceState::Running).await;
    harness.wait_state("bridge", ServiceState::Running).await;
    let said: Vec<String> = harness
        .manager
        .logs("tool", 10)
        .await
        .expect("its log")
        .into_iter()
        .map(|line| line.text)
        .collect();
    assert!(
        said.iter().any(|line| line == "my own tool ready"),
        "{said:?}"
    );
    let saved = std::fs::read_to_string(harness.path("state/choices.json")).expect("saved");
    assert!(saved.contains("TOOL_DIR"), "{saved}");
    assert_eq!(
        server.hits("/tool_1.0.tar.gz"),
        1,
        "nothing downloaded for it"
    );

    // Back to the download.
    harness
        .manager
        .use_programs(with_folder(None), ProgramsChoice::Folder(None))
        .await
        .expect("used");
    harness.wait_state("tool", ServiceState::Error).await;
    assert_eq!(server.hits("/tool_1.0.tar.gz"), 2);
    let saved = std::fs::read_to_string(harness.path("state/choices.json")).expect("saved");
    assert!(saved.contains(r#""TOOL_DIR": """#), "{saved}");
    harness.shutdown().await;
}

#[tokio::test]
async fn a_folder_without_the_programs_is_refused_with_what_is_missing() {
    let server = release_server().await;
    let text = definitions(&server, false);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let service = support::definitions(&text, dir.path()).services["tool"].clone();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("a folder");
    assert_eq!(
        check_folder(&service, &empty).await,
        Err(format!(
            "{} has no tool: tool needs it there",
            empty.display()
        ))
    );
    assert_eq!(
        check_folder(&service, &dir.path().join("absent")).await,
        Err(format!(
            "{} is not a folder",
            dir.path().join("absent").display()
        ))
    );
}

#[tokio::test]
async fn another_build_is_downloaded_and_run_at_once() {
    let cpu = tar_gz(&[("tool", 0o755, TOOL)]);
    let vulkan_tool = String::from_utf8_lossy(TOOL).replace("tool 1.0 ready", "vulkan tool ready");
    let vulkan = tar_gz(&[("tool", 0o755, vulkan_tool.as_bytes())]);
    let server = ReleaseServer::start([
        ("/tool-cpu.tar.gz", Reply::Bytes(cpu.clone())),
        ("/tool-vulkan.tar.gz", Reply::Bytes(vulkan.clone())),
        (
            "/sums.txt",
            Reply::Bytes(checksums(&[
                ("tool-cpu.tar.gz", &cpu),
                ("tool-vulkan.tar.gz", &vulkan),
            ])),
        ),
    ])
    .await;
    let text = format!(
        r#"
[services.tool]
command = ["${{PROGRAM_DIR}}/tool"]
health = {{ log = "ready" }}

[services.tool.install]
version = "1.0"
url = "{}"
checksums = "{}"
variants = {{ cpu = "cpu", vulkan = "vulkan" }}
"#,
        server.url("/tool-{variant}.tar.gz"),
        server.url("/sums.txt"),
    );
    let mut harness = Harness::up(&text).await;
    harness.wait_state("tool", ServiceState::Running).await;
    assert!(harness.path("home/programs/tool/1.0-cpu/tool").is_file());

    let options = LoadOptions {
        platform: Platform::current(),
        variables: Variables::new([], harness.path("home")),
        features: FeatureChoice::Defaults,
    }
    .with_setup(&Setup {
        accelerator: Some(Accelerator::Vulkan),
        ..Setup::default()
    });
    let vulkan_service = load::load(&SourceFile::new("test.toml", &text), &options)
        .expect("valid")
        .definitions
        .services["tool"]
        .clone();
    harness
        .manager
        .use_programs(
            vulkan_service,
            ProgramsChoice::Build(Some(Accelerator::Vulkan)),
        )
        .await
        .expect("used");
    harness
        .wait_for("the Vulkan build to run", |event| {
            matches!(&event.kind, EventKind::ServiceStateChanged { name, current_state: ServiceState::Running, .. } if name == "tool")
        })
        .await;
    let said: Vec<String> = harness
        .manager
        .logs("tool", 10)
        .await
        .expect("its log")
        .into_iter()
        .map(|line| line.text)
        .collect();
    assert!(
        said.iter().any(|line| line == "vulkan tool ready"),
        "{said:?}"
    );
    assert!(harness.path("home/programs/tool/1.0-vulkan/tool").is_file());
    let saved = std::fs::read_to_string(harness.path("state/choices.json")).expect("saved");
    assert!(saved.contains(r#""accelerator": "vulkan""#), "{saved}");
    harness.shutdown().await;
}
