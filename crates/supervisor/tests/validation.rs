//! Every validation rule, each with the exact message a user sees.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use clara_supervisor::definitions::{
    self, Archive, Checksum, Condition, Download, Install, Probe, RestartMode, RuntimeKind,
    StopSignal, Variables, VolumeSource,
};
use clara_supervisor::diagnostics::SourceFile;
use clara_supervisor::load::{self, LoadError, LoadOptions, Loaded};
use clara_supervisor::platform::{Accelerator, Platform};
use clara_supervisor::selection::FeatureChoice;

fn options(platform: Platform, features: FeatureChoice) -> LoadOptions {
    LoadOptions {
        platform,
        variables: Variables::new(
            [("MODELS".to_string(), "/srv/models".to_string())],
            "/home/u/.local/share/ClaraVerse",
        ),
        features,
    }
}

fn load_with(text: &str, options: &LoadOptions) -> Result<Loaded, LoadError> {
    load::load(&SourceFile::new("test.toml", text), options)
}

fn load(text: &str) -> Result<Loaded, LoadError> {
    load_with(text, &options(Platform::Linux, FeatureChoice::Defaults))
}

/// The errors of an invalid file, rendered as the CLI prints them.
fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(_) => panic!("expected errors in:\n{text}"),
        Err(error) => error.errors.iter().map(ToString::to_string).collect(),
    }
}

fn warnings(text: &str) -> Vec<String> {
    match load(text) {
        Ok(loaded) => loaded.warnings.iter().map(ToString::to_string).collect(),
        Err(error) => panic!("expected no errors, got {:#?}", error.errors),
    }
}

fn only_error(text: &str) -> String {
    let mut all = errors(text);
    assert_eq!(all.len(), 1, "expected exactly one error, got {all:#?}");
    all.remove(0)
}

#[test]
fn unknown_dependency_suggests_the_closest_name() {
    let text = r#"
[services.python-backend]
command = ["backend"]

[services.comfyui]
command = ["comfy"]
depends_on = ["pyhton-backend"]
"#;
    assert_eq!(
        only_error(text),
        r#"test.toml:7:15: service "comfyui": depends on "pyhton-backend", which is not defined (did you mean "python-backend"?)"#
    );
}

#[test]
fn unknown_dependency_without_a_close_name_has_no_hint() {
    let text = "[services.a]\ncommand = [\"a\"]\ndepends_on = { postgres = \"started\" }\n";
    assert_eq!(
        only_error(text),
        r#"test.toml:3:27: service "a": depends on "postgres", which is not defined"#
    );
}

#[test]
fn dependency_cycle_is_reported_as_the_cycle() {
    let text = r#"
[services.a]
command = ["a"]
depends_on = ["b"]

[services.b]
command = ["b"]
depends_on = ["c"]

[services.c]
command = ["c"]
depends_on = ["a"]

[services.d]
command = ["d"]
depends_on = ["a"]
"#;
    assert_eq!(
        only_error(text),
        r#"test.toml:4:15: service "a": dependency cycle: a -> b -> c -> a (remove one of these dependencies)"#
    );
}

#[test]
fn self_dependency() {
    let text = "[services.a]\ncommand = [\"a\"]\ndepends_on = [\"a\"]\n";
    assert_eq!(
        only_error(text),
        r#"test.toml:3:15: service "a": depends on itself (remove it from depends_on)"#
    );
}

#[test]
fn unknown_keys_are_each_named_with_a_suggestion() {
    let text = r#"
[features.rag]
label = "RAG"
defualt = true

[services.a]
comand = ["a"]
command = ["a"]
feature = "rag"
health = { http = "http://127.0.0.1:1/", intervl = "5s" }
restart = { policy = "always", max_restart = 3 }
depends_on = { b = { condition = "started", restar = true } }
weird_thing = 1

[services.a.platform.macos]
cwdir = "/tmp"

[services.b]
command = ["b"]

[service.c]
"#;
    assert_eq!(
        errors(text),
        [
            r#"test.toml:4:1: feature "rag": unknown key "defualt" (did you mean "default"?)"#,
            r#"test.toml:7:1: service "a": unknown key "comand" (did you mean "command"?)"#,
            r#"test.toml:10:42: service "a": unknown key "health.intervl" (did you mean "interval"?)"#,
            r#"test.toml:11:32: service "a": unknown key "restart.max_restart" (did you mean "max_restarts"?)"#,
            r#"test.toml:12:45: service "a": unknown key "depends_on.b.restar" (did you mean "restart"?)"#,
            r#"test.toml:13:1: service "a": unknown key "weird_thing""#,
            r#"test.toml:16:1: service "a": unknown key "platform.macos.cwdir" (did you mean "cwd"?)"#,
            r#"test.toml:21:2: unknown top-level key "service" (did you mean "services"?)"#,
        ]
    );
}

#[test]
fn a_service_needs_exactly_one_runtime() {
    let none = "[services.a]\ndescription = \"nothing to run\"\n";
    assert_eq!(
        only_error(none),
        r#"test.toml:1:11: service "a": has no runtime (set one of image (a container), command (a native program), url (an external service) or engine = "docker")"#
    );
    let two = "[services.a]\ncommand = [\"a\"]\nurl = \"http://127.0.0.1:9/\"\n";
    assert_eq!(
        only_error(two),
        r#"test.toml:3:7: service "a": has two runtimes, command and url (keep one of them; with image, command replaces the image's command)"#
    );
}

#[test]
fn image_with_command_is_a_container_with_its_command_replaced() {
    let loaded = load("[services.a]\nimage = \"busybox:latest\"\ncommand = [\"httpd\", \"-f\"]\n")
        .expect("valid");
    assert_eq!(
        loaded.definitions.services["a"].runtime,
        RuntimeKind::Container {
            image: "busybox:latest".into(),
            command: Some(vec!["httpd".into(), "-f".into()]),
        }
    );
}

#[test]
fn the_same_host_port_on_two_enabled_services() {
    let text = r#"
[features.extra]
label = "Extra"
default = false

[services.a]
command = ["a"]
ports = ["127.0.0.1:8080"]

[services.b]
image = "b"
ports = ["8080:80"]

[services.c]
command = ["c"]
feature = "extra"
ports = ["8080"]
"#;
    assert_eq!(
        only_error(text),
        r#"test.toml:12:10: service "b": host port 8080 is also published by service "a" (test.toml:8:10) (give one of them another host port)"#
    );
    // Turning the feature on adds the third publisher, and a third error.
    let with_extra = load_with(
        text,
        &options(
            Platform::Linux,
            FeatureChoice::Only(BTreeSet::from(["extra".to_string()])),
        ),
    )
    .expect_err("conflicts");
    assert_eq!(with_extra.errors.len(), 2);
    // Different protocols or different addresses do not clash.
    let fine = "[services.a]\ncommand = [\"a\"]\nports = [\"53/udp\", \"127.0.0.2:80\"]\n\
                [services.b]\ncommand = [\"b\"]\nports = [\"53\", \"127.0.0.3:80\"]\n";
    assert!(load(fine).is_ok());
}

#[test]
fn durations_are_bounded() {
    let text = r#"
[services.a]
command = ["sh", "-c", "exit 1"]
restart = { policy = "always", backoff = "18446744073709551615s", max_backoff = "31 days" }
"#;
    assert_eq!(
        errors(text),
        [
            r#"test.toml:4:42: service "a": restart.backoff: "18446744073709551615s" is too long (at most 30 days)"#,
            r#"test.toml:4:81: service "a": restart.max_backoff: "31 days" is too long (at most 30 days)"#,
        ]
    );
}

#[test]
fn typos_that_used_to_pass() {
    let text = r#"
[services.a]
command = ["", "--flag"]

[services.b]
command = ["b"]
health = { http = "http://[::1" }

[services.c]
url = "http://a:99999/"

[services.d]
url = "http:// "

[services.e]
command = ["e"]
ports = ["+80", "00080"]

[services.f]
command = ["f"]
health = { tcp = "127.0.0.1:80", interval = "0s" }
"#;
    assert_eq!(
        errors(text),
        [
            r#"test.toml:3:12: service "a": command names no program: its first element is empty (give the program first, like ["./bin/server", "--port", "8080"])"#,
            r#"test.toml:7:19: service "b": health.http "http://[::1" is not an http:// or https:// address (invalid IPv6 address)"#,
            r#"test.toml:10:7: service "c": url "http://a:99999/" is not an http:// or https:// address (invalid port number)"#,
            r#"test.toml:13:7: service "d": url "http:// " is not an http:// or https:// address (empty host)"#,
            r#"test.toml:17:10: service "e": port "+80" is not a port mapping: "+80" is not a port number from 1 to 65535 (write "5001:5000", "127.0.0.1:5001:5000" or "8091")"#,
            r#"test.toml:17:17: service "e": port "00080" is not a port mapping: "00080" is not a port number from 1 to 65535 (write "5001:5000", "127.0.0.1:5001:5000" or "8091")"#,
            r#"test.toml:21:45: service "f": health.interval "0s" is too short (at least 100ms: probes would run without a pause)"#,
        ]
    );
}

#[test]
fn bad_durations() {
    let text = r#"
[services.a]
command = ["a"]
stop_timeout = "ten seconds"
health = { tcp = "127.0.0.1:80", interval = "5" }
restart = { backoff = "1x" }
"#;
    assert_eq!(
        errors(text),
        [
            r#"test.toml:4:16: service "a": stop_timeout: "ten seconds" is not a duration (write a number and a unit, like "250ms", "5s" or "2m")"#,
            r#"test.toml:5:45: service "a": health.interval: "5" is not a duration (write a number and a unit, like "250ms", "5s" or "2m")"#,
            r#"test.toml:6:23: service "a": restart.backoff: "1x" is not a duration (write a number and a unit, like "250ms", "5s" or "2m")"#,
        ]
    );
}

#[test]
fn download_sizes() {
    let text = r#"
[services.backend]
image = "clara17verse/clara-backend:latest"
download = "4.5 GB"

[services.core]
command = ["llama-swap"]
download = "300MiB"

[services.core.platform.macos]
download = "120 MB"

[services.plain]
command = ["plain"]
"#;
    let linux = load(text).expect("valid");
    let size = |loaded: &Loaded, name: &str| loaded.definitions.services[name].download_bytes;
    assert_eq!(size(&linux, "backend"), Some(4_500_000_000));
    assert_eq!(size(&linux, "core"), Some(300 * 1024 * 1024));
    assert_eq!(size(&linux, "plain"), None);
    let mac = load_with(text, &options(Platform::Macos, FeatureChoice::Defaults)).expect("valid");
    assert_eq!(
        size(&mac, "core"),
        Some(120_000_000),
        "a platform may differ"
    );
}

#[test]
fn bad_download_sizes() {
    let text = r#"
[services.x]
command = ["x"]
download = "12 parsecs"

[services.y]
command = ["y"]
download = "4.5"
"#;
    assert_eq!(
        errors(text),
        [
            r#"test.toml:4:12: service "x": download "12 parsecs" is not a size (write it like "4.5 GB")"#,
            r#"test.toml:8:12: service "y": download "4.5" is not a size (write it like "4.5 GB")"#,
        ]
    );
    assert_eq!(
        only_error("[services.z]\ncommand = [\"z\"]\ndownload = 4\n"),
        "test.toml:3:12: service \"z\": invalid type: integer `4`, expected a string"
    );
}

#[test]
fn completed_dependency_on_a_service_that_always_restarts() {
    let text = r#"
[services.migrate]
command = ["migrate"]
restart = "always"

[services.api]
command = ["api"]
depends_on = { migrate = "completed" }
"#;
    assert_eq!(
        only_error(text),
        r#"test.toml:8:26: service "api": waits for "migrate" to complete, but its restart policy is "always", so it never completes (use condition "healthy" or "started", or give "migrate" another restart policy)"#
    );
}

#[test]
fn toml_syntax_errors_have_positions() {
    let text = "[services.a]\ncommand = [\"a\"]\nurl = \n\n[services.b]\nimage = \"x\n";
    assert_eq!(
        errors(text),
        [
            "test.toml:3:7: TOML syntax error: string values must be quoted, expected literal string",
            "test.toml:6:11: TOML syntax error: invalid basic string, expected `\"`",
        ]
    );
}

#[test]
fn wrong_types_are_reported_per_service_and_others_still_checked() {
    let text = r#"
[services.a]
command = "a --flag"

[services.b]
command = ["b"]
critical = "yes"

[services.c]
command = ["c"]
depends_on = ["a", "nope"]
"#;
    assert_eq!(
        errors(text),
        [
            r#"test.toml:3:11: service "a": invalid type: string "a --flag", expected a sequence"#,
            r#"test.toml:7:12: service "b": invalid type: string "yes", expected a boolean"#,
            r#"test.toml:11:20: service "c": depends on "nope", which is not defined"#,
        ]
    );
}

#[test]
fn names_from_fixed_lists_suggest_the_intended_one() {
    let text = r#"
[services.a]
command = ["a"]
stop_signal = "SIGTREM"
restart = { policy = "on_failure" }
depends_on = { b = "helthy" }

[services.b]
engine = "dokcer"
"#;
    assert_eq!(
        errors(text),
        [
            r#"test.toml:4:15: service "a": stop_signal "SIGTREM" is not known (did you mean "SIGTERM"?)"#,
            r#"test.toml:5:22: service "a": restart.policy "on_failure" is not known (did you mean "on-failure"?)"#,
            r#"test.toml:6:20: service "a": depends_on.b.condition "helthy" is not known (did you mean "healthy"?)"#,
            r#"test.toml:9:10: service "b": engine "dokcer" is not known (did you mean "docker"?)"#,
        ]
    );
}

#[test]
fn bad_ports_and_volumes() {
    let text = r#"
[services.a]
image = "a"
ports = ["70000:80"]
volumes = ["/data"]
"#;
    assert_eq!(
        errors(text),
        [
            r#"test.toml:4:10: service "a": port "70000:80" is not a port mapping: "70000" is not a port number from 1 to 65535 (write "5001:5000", "127.0.0.1:5001:5000" or "8091")"#,
            r#"test.toml:5:12: service "a": volume "/data" is not a volume: it has no target (write "/host/path:/container/path" or "name:/container/path", optionally followed by ":ro")"#,
        ]
    );
}

#[test]
fn undefined_variable_is_named() {
    let text = "[services.a]\ncommand = [\"a\", \"--models=${MODELS_DIR}\"]\n";
    assert_eq!(
        only_error(text),
        r#"test.toml:2:17: service "a": command uses the variable ${MODELS_DIR}, which is not set (set it in the environment, or give a default: ${MODELS_DIR:-value})"#
    );
}

#[test]
fn variables_expand_everywhere_but_in_log_patterns() {
    let text = r#"
[services.a]
command = ["${CLARA_HOME}/bin/${SERVICE}", "--models", "${MODELS}", "--port", "${PORT:-8080}", "$$5"]
cwd = "${CLARA_HOME}"
env = { DATA = "${CLARA_HOME}/${SERVICE}" }
volumes = ["${CLARA_HOME}/a:/a"]
health = { log = "ready on port [0-9]+$" }
"#;
    let loaded = load(text).expect("valid");
    let service = &loaded.definitions.services["a"];
    let home = "/home/u/.local/share/ClaraVerse";
    assert_eq!(
        service.runtime,
        RuntimeKind::Process {
            command: vec![
                format!("{home}/bin/a"),
                "--models".into(),
                "/srv/models".into(),
                "--port".into(),
                "8080".into(),
                "$5".into(),
            ]
        }
    );
    assert_eq!(service.cwd.as_deref(), Some(std::path::Path::new(home)));
    assert_eq!(service.env["DATA"], format!("{home}/a"));
    assert_eq!(
        service.volumes[0].source,
        VolumeSource::Bind(format!("{home}/a").into())
    );
    let probe = &service.health.as_ref().expect("health").probe;
    assert_eq!(
        probe,
        &Probe::Log {
            pattern: "ready on port [0-9]+$".into()
        }
    );
}

#[test]
fn feature_reference_must_exist() {
    let text = "[features.comfyUI]\nlabel = \"ComfyUI\"\n[services.a]\ncommand = [\"a\"]\nfeature = \"comfyui\"\n";
    assert_eq!(
        only_error(text),
        r#"test.toml:3:11: service "a": belongs to feature "comfyui", which is not defined (did you mean "comfyUI"?)"#
    );
}

#[test]
fn unknown_feature_chosen_by_the_user() {
    let text = "[features.comfyUI]\nlabel = \"ComfyUI\"\n[services.a]\ncommand = [\"a\"]\nfeature = \"comfyUI\"\n";
    let chosen = FeatureChoice::Only(BTreeSet::from(["comfyU".to_string()]));
    let error = load_with(text, &options(Platform::Linux, chosen)).expect_err("unknown feature");
    let messages: Vec<String> = error.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [r#"feature "comfyU": is not defined (did you mean "comfyUI"?)"#]
    );
}

#[test]
fn platform_tables_are_checked() {
    let text = r#"
[services.a]
command = ["a"]

[services.a.platform.darwin]
command = ["b"]

[services.a.platform.windows.platform.linux]
command = ["c"]
"#;
    assert_eq!(
        errors(text),
        [
            r#"test.toml:5:1: service "a": unknown platform "darwin" in platform.darwin (use linux, macos or windows)"#,
            r#"test.toml:8:22: service "a": platform.windows has its own platform table (overrides apply to the service, not to each other)"#,
        ]
    );
}

#[test]
fn platform_override_is_merged_over_the_base() {
    let text = r#"
[services.llama]
command = ["./linux/llama-swap"]
env = { COMMON = "1", LD_LIBRARY_PATH = "./linux" }
stop_timeout = "3s"

[services.llama.platform.macos]
command = ["./darwin-arm64/llama-swap"]
env = { DYLD_LIBRARY_PATH = "./darwin-arm64", LD_LIBRARY_PATH = "" }
"#;
    let mac = load_with(text, &options(Platform::Macos, FeatureChoice::Defaults)).expect("valid");
    let service = &mac.definitions.services["llama"];
    assert_eq!(
        service.runtime,
        RuntimeKind::Process {
            command: vec!["./darwin-arm64/llama-swap".into()]
        }
    );
    assert_eq!(service.env["COMMON"], "1");
    assert_eq!(service.env["DYLD_LIBRARY_PATH"], "./darwin-arm64");
    assert_eq!(service.env["LD_LIBRARY_PATH"], "");
    assert_eq!(
        service.stop_timeout,
        Duration::from_secs(3),
        "fields not overridden are kept"
    );
    let linux = load_with(text, &options(Platform::Linux, FeatureChoice::Defaults)).expect("valid");
    assert_eq!(
        linux.definitions.services["llama"].runtime,
        RuntimeKind::Process {
            command: vec!["./linux/llama-swap".into()]
        }
    );
}

#[test]
fn health_needs_exactly_one_probe() {
    let none = "[services.a]\ncommand = [\"a\"]\nhealth = { interval = \"1s\" }\n";
    assert_eq!(
        only_error(none),
        r#"test.toml:3:10: service "a": health needs exactly one of http, tcp, exec, log or docker; found none"#
    );
    let two =
        "[services.a]\ncommand = [\"a\"]\nhealth = { tcp = \"127.0.0.1:1\", exec = [\"true\"] }\n";
    assert_eq!(
        only_error(two),
        r#"test.toml:3:10: service "a": health needs exactly one of http, tcp, exec, log or docker; found tcp and exec"#
    );
}

#[test]
fn health_values_are_checked() {
    let text = r#"
[services.a]
command = ["a"]
health = { log = "ready (", retries = 0 }

[services.b]
command = ["b"]
health = { tcp = "localhost" }

[services.c]
command = ["c"]
health = { http = "127.0.0.1:8080/health", status = 200 }

[services.d]
command = ["d"]
health = { exec = [], body = "ok" }

[services.e]
command = ["e"]
health = { http = "http://127.0.0.1:1/", status = 42 }
"#;
    assert_eq!(
        errors(text),
        [
            r#"test.toml:4:18: service "a": health.log "ready (" is not a valid regular expression: error: unclosed group"#,
            r#"test.toml:8:18: service "b": health.tcp "localhost" is not a host:port address (write it like "127.0.0.1:8091")"#,
            r#"test.toml:12:19: service "c": health.http "127.0.0.1:8080/health" is not an http:// or https:// address"#,
            r#"test.toml:16:10: service "d": health.status and health.body only apply to an http probe"#,
            r#"test.toml:16:19: service "d": health.exec is empty (give the program and its arguments, like ["./bin/server", "--port", "8080"])"#,
            r#"test.toml:20:51: service "e": health.status 42 is not an HTTP status (100 to 599)"#,
        ]
    );
}

#[test]
fn health_retries_of_zero_is_an_error() {
    let text = "[services.a]\ncommand = [\"a\"]\nhealth = { exec = [\"true\"], retries = 0 }\n";
    assert_eq!(
        only_error(text),
        r#"test.toml:3:39: service "a": health.retries must be at least 1"#
    );
}

#[test]
fn restart_backoff_limits_must_be_ordered() {
    let text =
        "[services.a]\ncommand = [\"a\"]\nrestart = { backoff = \"5s\", max_backoff = \"1s\" }\n";
    assert_eq!(
        only_error(text),
        r#"test.toml:3:43: service "a": restart.max_backoff (1s) is shorter than restart.backoff (5s)"#
    );
}

#[test]
fn empty_command_url_scheme_and_name() {
    let text = r#"
[services.a]
command = []

[services.b]
url = "localhost:8080"

[services."c d"]
command = ["c"]
"#;
    assert_eq!(
        errors(text),
        [
            r#"test.toml:3:11: service "a": command is empty (give the program and its arguments, like ["./bin/server", "--port", "8080"])"#,
            r#"test.toml:6:7: service "b": url "localhost:8080" is not an http:// or https:// address"#,
            r#"test.toml:8:11: service "c d": the name may only contain letters, digits, "-", "_" and ".", and must start with a letter or digit"#,
        ]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"
[services.a]
command = ["a"]
depends_on = ["b", "zz"]
stop_timeout = "soon"

[services.b]
command = ["b"]
depends_on = ["a"]
ports = ["8080"]

[services.c]
url = "http://127.0.0.1:8080/"
image = "c"
ports = ["8080"]
"#;
    let all = errors(text);
    assert_eq!(all.len(), 5, "{all:#?}");
    assert!(all[0].contains("dependency cycle: a -> b -> a"));
    assert!(all[1].contains("depends on \"zz\""));
    assert!(all[2].contains("\"soon\" is not a duration"));
    assert!(all[3].contains("has two runtimes, image and url"));
    assert!(all[4].contains("host port 8080 is also published by service \"b\""));
}

#[test]
fn doubtful_things_are_warnings_kept_apart_from_errors() {
    let text = r#"
[features.unused]
label = "Nothing uses this"

[services.db]
command = ["db"]
ports = ["0.0.0.0:5432"]
restart = { policy = "never" }

[services.api]
command = ["api"]
critical = true
depends_on = ["db"]
health = { http = "http://127.0.0.1:1/", interval = "1s", timeout = "2s" }

[services.remote]
url = "http://127.0.0.1:9000/"
restart = "always"
"#;
    assert_eq!(
        warnings(text),
        [
            r#"test.toml:7:10: warning: service "db": publishes port 5432 on every network interface, so other machines can reach it (write "127.0.0.1:5432:5432" unless that is intended)"#,
            r#"test.toml:13:15: warning: service "api": is critical but needs "db", which is not: if "db" fails, the start-up fails anyway (mark "db" critical too)"#,
            r#"test.toml:13:15: warning: service "api": waits for "db" to be healthy, but it has no health check, so it counts as healthy as soon as it starts (give "db" a health check, or use condition "started")"#,
            r#"test.toml:14:69: warning: service "api": health.timeout (2s) is longer than health.interval (1s), so probes overlap"#,
            r#"test.toml:18:11: warning: service "remote": restart has no effect on an external service: it is not started by the supervisor (remove it)"#,
            r#"warning: feature "unused": no service belongs to it, so turning it on does nothing"#,
        ]
    );
}

#[test]
fn warnings_travel_with_errors() {
    let text = "[services.a]\ncommand = [\"a\"]\nports = [\"0.0.0.0:80\"]\ndepends_on = [\"b\"]\n";
    let error = load(text).expect_err("unknown dependency");
    assert_eq!(error.errors.len(), 1);
    assert_eq!(error.warnings.len(), 1);
    assert_eq!(error.to_string(), "1 error in the service definitions");
}

#[test]
fn dependency_forms_and_defaults() {
    let text = r#"
[services.db]
command = ["db"]
health = { tcp = "127.0.0.1:5432" }

[services.migrate]
command = ["migrate"]
depends_on = ["db"]
restart = "never"

[services.api]
command = ["api"]
depends_on = { db = { condition = "healthy", restart = true }, migrate = "completed", logger = "started" }
stop_signal = "INT"

[services.logger]
command = ["logger"]
"#;
    let loaded = load(text).expect("valid");
    let api = &loaded.definitions.services["api"];
    let deps: Vec<(&str, Condition, bool)> = api
        .depends_on
        .iter()
        .map(|d| (d.service.as_str(), d.condition, d.restart))
        .collect();
    assert_eq!(
        deps,
        [
            ("db", Condition::Healthy, true),
            ("logger", Condition::Started, false),
            ("migrate", Condition::Completed, false),
        ]
    );
    assert_eq!(api.stop_signal, StopSignal::Int);
    assert_eq!(api.restart.policy, RestartMode::OnFailure);
    assert_eq!(api.stop_timeout, Duration::from_secs(10));
    let migrate = &loaded.definitions.services["migrate"];
    assert_eq!(migrate.depends_on[0].condition, Condition::Healthy);
    assert_eq!(migrate.restart.policy, RestartMode::Never);
    let health = loaded.definitions.services["db"]
        .health
        .as_ref()
        .expect("health");
    assert_eq!(
        (
            health.interval,
            health.timeout,
            health.retries,
            health.start_period
        ),
        (
            Duration::from_secs(10),
            Duration::from_secs(5),
            3,
            Duration::from_secs(60)
        )
    );
    assert_eq!(
        loaded.plan.waves(),
        [
            vec!["db".to_string(), "logger".to_string()],
            vec!["migrate".to_string()],
            vec!["api".to_string()],
        ]
    );
}

#[test]
fn a_dependency_of_an_unselected_feature_is_pulled_in_and_said_so() {
    let text = r#"
[features.rag]
label = "RAG"
default = false

[features.images]
label = "Images"
default = true

[services.backend]
command = ["backend"]
feature = "rag"

[services.comfyui]
command = ["comfyui"]
feature = "images"
depends_on = ["backend"]

[services.n8n]
command = ["n8n"]
feature = "rag"
"#;
    let loaded = load(text).expect("valid");
    assert_eq!(
        loaded.selection.services,
        BTreeSet::from(["backend".to_string(), "comfyui".to_string()])
    );
    let notes: Vec<String> = loaded
        .plan
        .pulled_in()
        .iter()
        .map(|p| p.describe())
        .collect();
    assert_eq!(
        notes,
        ["backend runs although feature rag is off: comfyui needs it"]
    );
}

#[test]
fn gpu_settings_belong_to_containers() {
    let text = r#"
[services.native]
command = ["llama-server"]
gpu = "auto"
cpu_env = { THREADS = "4" }
health = { docker = true }

[services.comfy]
image = "comfy"
gpu = "cuda"
"#;
    assert_eq!(
        errors(text),
        [
            r#"test.toml:4:7: service "native": gpu only applies to a container (a service with an image)"#,
            r#"test.toml:5:23: service "native": cpu_env only applies to a container (a service with an image)"#,
            r#"test.toml:6:10: service "native": health.docker uses the image's HEALTHCHECK, so it only applies to a container"#,
            r#"test.toml:10:7: service "comfy": gpu "cuda" is not known (expected one of: auto, required, off)"#,
        ]
    );
}

#[test]
fn container_gpu_and_image_health_are_read() {
    let text = "[services.comfy]\nimage = \"comfy\"\ngpu = \"required\"\ncpu_env = { A = \"1\" }\nhealth = { docker = true }\n";
    let loaded = load(text).expect("valid");
    let comfy = &loaded.definitions.services["comfy"];
    assert_eq!(comfy.gpu, definitions::GpuMode::Required);
    assert_eq!(comfy.cpu_env["A"], "1");
    assert_eq!(
        comfy.health.as_ref().map(|h| &h.probe),
        Some(&Probe::Docker)
    );
}

#[test]
fn own_server_is_a_health_path() {
    let text = r#"
[services.n8n]
image = "n8nio/n8n"
own_server = "healthz"
"#;
    assert_eq!(
        only_error(text),
        "test.toml:4:14: service \"n8n\": own_server \"healthz\" is not a path: it is the health path checked at the user's server (write it from the first \"/\", e.g. own_server = \"/health\")"
    );
    let fine = load(&text.replace("\"healthz\"", "\"/healthz\"")).expect("valid");
    assert_eq!(
        fine.definitions.services["n8n"].own_server.as_deref(),
        Some("/healthz")
    );
}

#[test]
fn install_gives_the_program_folder_and_what_to_download() {
    let text = r#"
[services.core]
command = ["${PROGRAM_DIR}/llama-swap", "--listen", "127.0.0.1:8091"]
cwd = "${PROGRAM_DIR}"

[services.core.install]
program = "llama-swap"
version = "171"
url = "https://example.org/v{version}/llama-swap_{version}_linux_amd64.tar.gz"
checksums = "https://example.org/v{version}/llama-swap_{version}_checksums.txt"
"#;
    let loaded = load(text).expect("valid");
    let core = &loaded.definitions.services["core"];
    let folder = PathBuf::from("/home/u/.local/share/ClaraVerse/programs/core/171");
    assert_eq!(
        core.install,
        Some(Install {
            parts: vec![Download {
                program: "llama-swap".into(),
                version: "171".into(),
                url: "https://example.org/v171/llama-swap_171_linux_amd64.tar.gz".into(),
                checksum: Checksum::List(
                    "https://example.org/v171/llama-swap_171_checksums.txt".into()
                ),
                archive: Archive::TarGz,
                into: None,
                variant: None,
                variants: Vec::new(),
            }],
            folder: folder.clone(),
        })
    );
    assert_eq!(
        core.runtime,
        RuntimeKind::Process {
            command: vec![
                format!("{}/llama-swap", folder.display()),
                "--listen".into(),
                "127.0.0.1:8091".into()
            ]
        }
    );
    assert_eq!(core.cwd.as_deref(), Some(folder.as_path()));
}

#[test]
fn a_chosen_folder_takes_the_place_of_the_download() {
    let text = r#"
[services.core]
command = ["${PROGRAM_DIR}/llama-swap"]

[services.core.install]
version = "171"
url = "https://example.org/llama-swap.tar.gz"
sha256 = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
folder_variable = "CLARA_CORE_PROGRAMS"
"#;
    let downloaded = load(text).expect("valid");
    let install = downloaded.definitions.services["core"].install.clone();
    assert_eq!(
        install.map(|install| install.parts[0].checksum.clone()),
        Some(Checksum::Sha256(
            "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789".into()
        ))
    );
    let mut options = options(Platform::Linux, FeatureChoice::Defaults);
    options.variables = options.variables.with_folders(
        &[(
            "CLARA_CORE_PROGRAMS".to_string(),
            PathBuf::from("/opt/llama"),
        )]
        .into(),
    );
    let chosen = load_with(text, &options).expect("valid");
    let core = &chosen.definitions.services["core"];
    assert_eq!(core.install, None, "nothing to download");
    assert_eq!(
        core.runtime,
        RuntimeKind::Process {
            command: vec!["/opt/llama/llama-swap".into()]
        }
    );
}

#[test]
fn install_problems_are_each_said() {
    let base = r#"
[services.core]
command = ["${PROGRAM_DIR}/tool"]

[services.core.install]
"#;
    let cases = [
        (
            "url = \"https://example.org/t.tar.gz\"\nsha256 = \"00\"\n",
            "test.toml:5:1: service \"core\": install has no version (pin the release, e.g. version = \"1.2.3\")",
        ),
        (
            "version = \"../up\"\nurl = \"https://example.org/t.tar.gz\"\nchecksums = \"https://example.org/sums\"\n",
            "test.toml:6:11: service \"core\": install.version \"../up\" cannot name a folder: it must not be empty, \".\" or \"..\", nor hold \"/\" or \"\\\"",
        ),
        (
            "version = \"1\"\nsha256 = \"00\"\n",
            "test.toml:5:1: service \"core\": install has no url (give the release's download address; {version} in it is replaced)",
        ),
        (
            "version = \"1\"\nurl = \"ftp://example.org/t.tar.gz\"\nchecksums = \"https://example.org/sums\"\n",
            "test.toml:7:7: service \"core\": install.url \"ftp://example.org/t.tar.gz\" is not an http:// or https:// address",
        ),
        (
            "version = \"1\"\nurl = \"https://example.org/t.tar.gz\"\n",
            "test.toml:5:1: service \"core\": install has no checksum, so the download could not be verified (give sha256 = \"…\", or checksums = \"…\" (the address of the release's list of sums))",
        ),
        (
            "version = \"1\"\nurl = \"https://example.org/t.tar.gz\"\nsha256 = \"1234\"\n",
            "test.toml:8:10: service \"core\": install.sha256 \"1234\" is not a SHA-256 sum (64 hexadecimal digits)",
        ),
        (
            "version = \"1\"\nurl = \"https://example.org/t.tar.gz\"\nsha256 = \"1234\"\nchecksums = \"https://example.org/sums\"\n",
            "test.toml:9:13: service \"core\": install has both sha256 and checksums (keep one: sha256 pins the sum, checksums names the release's list of sums)",
        ),
        (
            "version = \"1\"\nurl = \"https://example.org/t\"\nchecksums = \"https://example.org/sums\"\narchive = \"rar\"\n",
            "test.toml:9:11: service \"core\": install.archive \"rar\" is not known (expected one of: tar.gz, zip, file)",
        ),
    ];
    for (table, expected) in cases {
        assert_eq!(only_error(&format!("{base}{table}")), expected, "{table}");
    }
}

#[test]
fn program_dir_needs_an_install_table() {
    assert_eq!(
        only_error("[services.core]\ncommand = [\"${PROGRAM_DIR}/tool\"]\n"),
        "test.toml:2:12: service \"core\": command uses ${PROGRAM_DIR}, which only a service with an install table has (add [services.NAME.install], or write the program's own path)"
    );
    assert_eq!(
        only_error(
            "[services.web]\nimage = \"nginx\"\n[services.web.install]\nversion = \"1\"\nurl = \"https://example.org/t\"\nchecksums = \"https://example.org/sums\"\n"
        ),
        "test.toml:3:1: service \"web\": install only applies to a native program (a service with command and no image)"
    );
}

#[test]
fn prepare_problems_are_each_said() {
    let base = "[services.core]\ncommand = [\"llama-swap\"]\n";
    assert_eq!(
        only_error(&format!("{base}prepare = {{ kind = \"llama-swap\" }}\n")),
        "test.toml:3:20: service \"core\": prepare.kind \"llama-swap\" is not known (did you mean \"llama-swap-config\"?)"
    );
    assert_eq!(
        errors(&format!(
            "{base}prepare = {{ kind = \"llama-swap-config\", models = [] }}\n"
        )),
        [
            "test.toml:3:11: service \"core\": prepare of kind \"llama-swap-config\" has no config (add config = \"${CLARA_HOME}/llama-swap-config.yaml\")",
            "test.toml:3:11: service \"core\": prepare of kind \"llama-swap-config\" has no models (add models = [\"${CLARA_HOME}/models\"], the folders of GGUF models)",
            "test.toml:3:11: service \"core\": prepare of kind \"llama-swap-config\" has no server (add server = \"${PROGRAM_DIR}/llama-server\")",
        ]
    );
    assert_eq!(
        only_error(
            "[services.web]\nimage = \"nginx\"\nprepare = { kind = \"llama-swap-config\", config = \"c\", models = [\"m\"], server = \"s\" }\n"
        ),
        "test.toml:3:11: service \"web\": prepare only applies to a native program (a service with command and no image)"
    );
}

#[test]
fn several_downloads_share_one_folder_and_take_the_machines_build() {
    let text = r#"
[services.core]
command = ["${PROGRAM_DIR}/llama-swap"]
prepare = { kind = "llama-swap-config", config = "${CLARA_HOME}/c.yaml", models = ["${CLARA_HOME}/models"], server = "${PROGRAM_DIR}/llama.cpp/llama-server" }

[[services.core.install]]
program = "llama-swap"
version = "250"
url = "https://example.org/llama-swap_{version}_linux_amd64.tar.gz"
checksums = "https://example.org/llama-swap_{version}_checksums.txt"

[[services.core.install]]
program = "llama.cpp server"
version = "b11195"
url = "https://example.org/{version}/llama-{version}-bin-{variant}.tar.gz"
checksums = "https://api.example.org/releases/tags/{version}"
into = "llama.cpp"
variants = { cpu = "ubuntu-x64", vulkan = "ubuntu-vulkan-x64" }
"#;
    let home = "/home/u/.local/share/ClaraVerse/programs/core";
    for (accelerator, build, text_of_build) in [
        (Accelerator::Cpu, "cpu", "ubuntu-x64"),
        (Accelerator::Vulkan, "vulkan", "ubuntu-vulkan-x64"),
        // No CUDA build for Linux: the next best.
        (Accelerator::Cuda, "vulkan", "ubuntu-vulkan-x64"),
    ] {
        let mut options = options(Platform::Linux, FeatureChoice::Defaults);
        options.variables = options.variables.with_accelerator(accelerator);
        let loaded = load_with(text, &options).expect("valid");
        let core = &loaded.definitions.services["core"];
        let install = core.install.as_ref().expect("an install");
        let folder = PathBuf::from(format!("{home}/250+b11195-{build}"));
        assert_eq!(install.folder, folder, "{accelerator}");
        assert_eq!(install.parts.len(), 2);
        let server = &install.parts[1];
        assert_eq!(
            server.url,
            format!("https://example.org/b11195/llama-b11195-bin-{text_of_build}.tar.gz")
        );
        assert_eq!(server.variant.as_deref(), Some(build));
        assert_eq!(server.into.as_deref(), Some("llama.cpp"));
        assert_eq!(
            core.prepare,
            Some(definitions::Prepare::LlamaSwapConfig {
                config: "/home/u/.local/share/ClaraVerse/c.yaml".into(),
                models: vec!["/home/u/.local/share/ClaraVerse/models".into()],
                models_variable: None,
                server: format!("{}/llama.cpp/llama-server", folder.display()),
            })
        );
    }
}

#[test]
fn variant_problems_are_each_said() {
    let base = "[services.core]\ncommand = [\"${PROGRAM_DIR}/tool\"]\n[services.core.install]\nversion = \"1\"\nchecksums = \"https://example.org/sums\"\n";
    assert_eq!(
        only_error(&format!(
            "{base}url = \"https://example.org/tool-{{variant}}.zip\"\n"
        )),
        "test.toml:6:7: service \"core\": install.url uses {variant}, but install has no variants (add variants = { cpu = \"…\", vulkan = \"…\" }: the text {variant} stands for on each machine)"
    );
    assert_eq!(
        only_error(&format!(
            "{base}url = \"https://example.org/tool-{{variant}}.zip\"\nvariants = {{ cuda = \"cuda\" }}\n"
        )),
        "test.toml:3:1: service \"core\": install.variants has no build this machine can run (its best is cpu) (add cpu = \"…\", the build every machine runs)"
    );
}
