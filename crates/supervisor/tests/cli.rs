//! The `clara-supervisor` command line: exit codes, output formats and messages.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clara-supervisor"))
        .args(args)
        .env("CLARA_HOME", "/home/clara/.local/share/ClaraVerse")
        .output()
        .expect("the CLI binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A definitions file in a fresh temporary folder.
fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("services.toml");
    std::fs::write(&path, text).expect("the file is written");
    (dir, path)
}

const SMALL: &str = r#"
[services.db]
command = ["db"]
health = { tcp = "127.0.0.1:5432" }

[services.cache]
command = ["cache"]

[services.api]
command = ["api"]
depends_on = ["db", "cache"]
health = { http = "http://127.0.0.1:8080/health" }

[services.web]
command = ["web"]
depends_on = { api = "healthy" }
"#;

#[test]
fn validate_the_built_in_catalog() {
    let output = run(&["validate"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "built-in catalog: ok: 6 services, 4 features (claraCore, ragAndTts on), 4 run, 0 warnings\n"
    );
    assert_eq!(stderr(&output), "");
}

#[test]
fn validate_reports_every_problem_on_stderr_and_exits_1() {
    let (_dir, path) = file(
        "[services.a]\ncommand = [\"a\"]\ndepends_on = [\"b\"]\nstop_timeout = \"soon\"\n\n[services.b]\ndepends_on = [\"a\"]\n",
    );
    let name = path.display().to_string();
    let output = run(&["validate", &name]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!(
            "{name}:3:15: service \"a\": dependency cycle: a -> b -> a (remove one of these dependencies)\n\
             {name}:4:16: service \"a\": stop_timeout: \"soon\" is not a duration (write a number and a unit, like \"250ms\", \"5s\" or \"2m\")\n\
             {name}:6:11: service \"b\": has no runtime (set one of image (a container), command (a native program), url (an external service) or engine = \"docker\")\n\
             {name}:7:15: warning: service \"b\": waits for \"a\" to be healthy, but it has no health check, so it counts as healthy as soon as it starts (give \"a\" a health check, or use condition \"started\")\n\
             {name}: 3 errors in the service definitions\n"
        )
    );
}

#[test]
fn validate_as_json() {
    let (_dir, path) = file("[services.a]\ncommand = [\"a\"]\ndepends_on = [\"zz\"]\n");
    let output = run(&[
        "validate",
        path.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let document: serde_json::Value =
        serde_json::from_str(&stdout(&output)).expect("JSON on stdout");
    assert_eq!(document["valid"], false);
    let error = &document["errors"][0];
    assert_eq!(error["severity"], "error");
    assert_eq!(error["location"]["line"], 3);
    assert_eq!(error["location"]["column"], 15);
    assert_eq!(error["subject"]["kind"], "service");
    assert_eq!(error["subject"]["name"], "a");
    assert_eq!(error["message"], "depends on \"zz\", which is not defined");

    let ok = run(&["validate", "--format", "json", "--features", "claraCore"]);
    assert!(ok.status.success());
    let document: serde_json::Value = serde_json::from_str(&stdout(&ok)).expect("JSON on stdout");
    assert_eq!(document["valid"], true);
    assert_eq!(
        document["selection"]["services"],
        serde_json::json!(["docker", "llamaswap", "mcp"])
    );
}

#[test]
fn graph_prints_the_waves() {
    let (_dir, path) = file(SMALL);
    let path = path.to_str().expect("utf-8 path");
    let text = run(&["graph", path]);
    assert!(text.status.success(), "{}", stderr(&text));
    assert_eq!(
        stdout(&text),
        "wave 1: cache, db\nwave 2: api\nwave 3: web\n"
    );

    let json = run(&["graph", path, "--format", "json"]);
    assert_eq!(
        stdout(&json),
        "{\"waves\":[[\"cache\",\"db\"],[\"api\"],[\"web\"]],\"pulledIn\":[]}\n"
    );

    let dot = run(&["graph", path, "--format", "dot"]);
    let dot = stdout(&dot);
    assert!(dot.starts_with("digraph services {"));
    assert!(dot.contains("\"db\" -> \"api\" [label=\"healthy\"];"));
    assert!(dot.contains("\"api\" -> \"web\" [label=\"healthy\"];"));
}

#[test]
fn graph_of_the_catalog_says_what_was_pulled_in() {
    let output = run(&["graph", "--features", "claraCore,comfyUI"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "wave 1: docker, llamaswap\n\
         wave 2: mcp, python-backend\n\
         wave 3: comfyui\n\
         note: python-backend runs although feature ragAndTts is off: comfyui needs it\n"
    );
}

#[test]
fn an_empty_feature_list_turns_every_feature_off() {
    let output = run(&["graph", "--features", ""]);
    assert_eq!(stdout(&output), "wave 1: docker\n");
}

#[test]
fn an_unknown_feature_is_an_error_with_a_suggestion() {
    let output = run(&["graph", "--features", "claraCore,comfyui"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "feature \"comfyui\": is not defined (did you mean \"comfyUI\"?)\n\
         built-in catalog: 1 error in the service definitions\n"
    );
}

#[test]
fn the_platform_can_be_chosen() {
    let output = run(&["validate", "--platform", "windows"]);
    assert!(output.status.success());
    let bad = run(&["validate", "--platform", "darwin"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("unknown platform \"darwin\" (expected linux, macos or windows)"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_missing_file_is_named() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("nope.toml");
    let output = run(&["validate", path.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "error: cannot read {}: No such file or directory (os error 2)\n",
            path.display()
        )
    );
}

#[test]
fn catalog_prints_the_built_in_file() {
    let output = run(&["catalog"]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), clara_supervisor::catalog::TEXT);
}

/// Writes an executable script.
#[cfg(unix)]
fn script(path: &std::path::Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("the folder");
    std::fs::write(path, text).expect("the script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("executable");
}

#[cfg(unix)]
#[test]
fn programs_the_user_has_are_checked_then_chosen_for_the_next_start() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = dir.path().join("state");
    let mine = dir.path().join("my llama");
    script(
        &mine.join("llama-swap"),
        "#!/bin/sh\necho \"version: 250 (abc), built at now\"\n",
    );
    script(
        &mine.join("llama.cpp/llama-server"),
        "#!/bin/sh\necho \"version: 6123 (def)\" >&2\n",
    );
    let state_arg = state.display().to_string();
    let mine_arg = mine.display().to_string();
    let output = run(&["use-programs", &mine_arg, "--state-dir", &state_arg]);
    assert_eq!(stderr(&output), "");
    assert_eq!(
        stdout(&output),
        format!(
            "llamaswap runs the programs in {mine_arg} from its next start (llama-swap: version: 250 (abc), built at now; llama-server: version: 6123 (def))\n"
        )
    );
    assert!(output.status.success());
    let choices: serde_json::Value = serde_json::from_slice(
        &std::fs::read(state.join("choices.json")).expect("the choices are saved"),
    )
    .expect("JSON");
    assert_eq!(choices["folders"]["CLARA_BINARIES"], mine_arg.as_str());

    // Refused, nothing changed: a program missing, or one that does not run.
    let elsewhere = dir.path().join("elsewhere");
    script(&elsewhere.join("llama-swap"), "#!/bin/sh\nexit 3\n");
    let elsewhere_arg = elsewhere.display().to_string();
    let output = run(&["use-programs", &elsewhere_arg, "--state-dir", &state_arg]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!("error: {elsewhere_arg}/llama-swap --version failed (exit status: 3)\n")
    );
    std::fs::remove_file(elsewhere.join("llama-swap")).expect("removed");
    script(&elsewhere.join("llama-swap"), "#!/bin/sh\necho 1\n");
    let output = run(&["use-programs", &elsewhere_arg, "--state-dir", &state_arg]);
    assert_eq!(
        stderr(&output),
        format!("error: {elsewhere_arg} has no llama.cpp/llama-server: llamaswap needs it there\n")
    );
    let still: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("choices.json")).expect("the choices"))
            .expect("JSON");
    assert_eq!(still["folders"]["CLARA_BINARIES"], mine_arg.as_str());

    // Without a folder: downloaded again.
    let output = run(&["use-programs", "--state-dir", &state_arg]);
    assert_eq!(
        stdout(&output),
        "llamaswap downloads its programs again from its next start\n"
    );
    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("choices.json")).expect("the choices"))
            .expect("JSON");
    assert_eq!(after["folders"]["CLARA_BINARIES"], "", "{after}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn fetch_programs_fills_a_folder_for_the_installers() {
    use support::release::{ReleaseServer, Reply, checksums, tar_gz};
    let swap = tar_gz(&[("llama-swap", 0o755, b"#!/bin/sh\necho swap\n")]);
    let server_build = tar_gz(&[("llama-b1/llama-server", 0o755, b"#!/bin/sh\necho server\n")]);
    let server = ReleaseServer::start([
        ("/swap.tar.gz", Reply::Bytes(swap.clone())),
        ("/llama-b1-cpu.tar.gz", Reply::Bytes(server_build.clone())),
        (
            "/sums.txt",
            Reply::Bytes(checksums(&[
                ("swap.tar.gz", &swap),
                ("llama-b1-cpu.tar.gz", &server_build),
            ])),
        ),
    ])
    .await;
    let (dir, config) = file(&format!(
        r#"
[services.llamaswap]
command = ["${{PROGRAM_DIR}}/llama-swap"]

[[services.llamaswap.install]]
program = "llama-swap"
version = "9"
url = "{}"
checksums = "{}"

[[services.llamaswap.install]]
program = "the llama.cpp server"
version = "b1"
url = "{}"
checksums = "{}"
into = "llama.cpp"
variants = {{ cpu = "cpu", vulkan = "vulkan" }}
"#,
        server.url("/swap.tar.gz"),
        server.url("/sums.txt"),
        server.url("/llama-b1-{variant}.tar.gz"),
        server.url("/sums.txt"),
    ));
    let folder = dir.path().join("programs");
    let (folder_arg, config_arg) = (folder.display().to_string(), config.display().to_string());
    let output = tokio::task::spawn_blocking(move || {
        run(&["fetch-programs", &folder_arg, "--config", &config_arg])
    })
    .await
    .expect("the CLI ran");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!(
            "llama-swap 9 from {}\nthe llama.cpp server b1 from {}\nthe cpu build of llamaswap's programs is in {}\n",
            server.url("/swap.tar.gz"),
            server.url("/llama-b1-cpu.tar.gz"),
            folder.display()
        )
    );
    assert!(folder.join("llama-swap").is_file());
    assert!(folder.join("llama.cpp/llama-server").is_file());
    assert_eq!(
        std::fs::read_to_string(folder.join("build")).expect("a build file"),
        "cpu\n"
    );

    // A second time, the folder exists: refused.
    let (folder_arg, config_arg) = (folder.display().to_string(), config.display().to_string());
    let again = tokio::task::spawn_blocking(move || {
        run(&["fetch-programs", &folder_arg, "--config", &config_arg])
    })
    .await
    .expect("the CLI ran");
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        stderr(&again),
        format!(
            "error: {} exists already: give a new folder\n",
            folder.display()
        )
    );
}
