//! Container services against a real Docker engine, with images made locally by
//! `scripts/test` (clara-test/busybox:1 and clara-test/busybox-health:1).
//!
//! Where no engine can be had, `scripts/test` sets CLARA_DOCKER_TESTS=skip and each test
//! says loudly that it was skipped; anywhere else an unreachable engine fails the tests.

#![cfg(unix)]

mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use clara_supervisor::events::EventKind;
use clara_supervisor::manager::{Manager, ManagerConfig};
use clara_supervisor::state::ServiceState;
use clara_supervisor::status::FailureCause;
use support::{Harness, PATIENCE, docker, eventually, free_port, supervisor_binary};
use tokio::sync::{Mutex, MutexGuard};

/// Managed containers are global to the engine (and a manager removes the ones it does not
/// know), so these tests take turns.
async fn one_at_a_time() -> Option<MutexGuard<'static, ()>> {
    static TURN: Mutex<()> = Mutex::const_new(());
    if std::env::var("CLARA_DOCKER_TESTS").is_ok_and(|value| value == "skip") {
        eprintln!(
            "\n*** SKIPPED: no Docker engine could be started on this machine (CLARA_DOCKER_TESTS=skip) ***\n"
        );
        return None;
    }
    let answers = Command::new("docker")
        .args([
            "image",
            "inspect",
            "clara-test/busybox:1",
            "clara-test/busybox-health:1",
        ])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        answers,
        "the Docker engine or the test images are missing: run scripts/test (it starts Docker and makes them), \
         or set CLARA_DOCKER_TESTS=skip"
    );
    Some(TURN.lock().await)
}

fn remove_containers(names: &[&str]) {
    for name in names {
        docker(&["rm", "-f", &format!("clara_{name}")]);
    }
}

fn web(name: &str, port: u16, extra: &str) -> String {
    format!(
        r#"
[services.docker]
engine = "docker"

[services.{name}]
image = "clara-test/busybox:1"
command = ["httpd", "-f", "-p", "80", "-h", "/www"]
ports = ["{port}:80"]
health = {{ http = "http://127.0.0.1:{port}/", interval = "1s", timeout = "1s" }}
restart = {{ policy = "on-failure", backoff = "100ms" }}
{extra}
"#
    )
}

#[tokio::test]
async fn a_container_is_created_probed_and_stopped() {
    let Some(_turn) = one_at_a_time().await else {
        return;
    };
    remove_containers(&["web1"]);
    let port = free_port();
    let mut h = Harness::up(&web("web1", port, "volumes = [\"${DIR}/data:/data\"]")).await;
    assert_eq!(
        h.wait_startup().await,
        EventKind::StartupComplete { degraded: vec![] }
    );
    let labels = docker(&[
        "inspect",
        "clara_web1",
        "--format",
        "{{json .Config.Labels}}",
    ]);
    assert!(
        labels.contains("\"claraverse.managed\":\"true\"")
            && labels.contains("\"claraverse.service\":\"web1\""),
        "{labels}"
    );
    assert!(labels.contains("claraverse.spec-hash"));
    let bindings = docker(&["port", "clara_web1"]);
    assert_eq!(
        bindings,
        format!("80/tcp -> 127.0.0.1:{port}"),
        "published on loopback only"
    );
    assert!(
        h.path("data").is_dir(),
        "the bind mount's folder was created"
    );
    let network = docker(&[
        "inspect",
        "clara_web1",
        "--format",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}",
    ]);
    assert_eq!(network, "clara_network");
    let statuses = h.manager.status().await.expect("status");
    let docker_status = statuses
        .iter()
        .find(|s| s.name == "docker")
        .expect("the engine service");
    assert!(
        docker_status
            .detail
            .as_deref()
            .is_some_and(|d| d.starts_with("Docker ")),
        "{docker_status:?}"
    );
    let web_status = statuses.iter().find(|s| s.name == "web1").expect("web1");
    assert_eq!(web_status.detail.as_deref(), Some("CPU"));
    assert!(web_status.pid.is_some());

    h.manager.stop_all().await.expect("stops");
    h.collect();
    assert_eq!(
        docker(&["inspect", "clara_web1", "--format", "{{.State.Running}}"]),
        "false"
    );
    assert!(
        h.position("web1", ServiceState::Stopped) < h.position("docker", ServiceState::Stopping),
        "{}",
        h.history()
    );
    h.shutdown().await;
    remove_containers(&["web1"]);
}

#[tokio::test]
async fn the_image_health_check_and_an_exec_probe_inside_the_container() {
    let Some(_turn) = one_at_a_time().await else {
        return;
    };
    remove_containers(&["checked", "inside"]);
    let mut h = Harness::up(
        r#"
[services.checked]
image = "clara-test/busybox-health:1"
command = ["sh", "-c", "sleep 1; touch /tmp/healthy; exec sleep 600"]
health = { docker = true, interval = "1s", timeout = "1s" }

[services.inside]
image = "clara-test/busybox:1"
command = ["sh", "-c", "touch /tmp/inside-only; exec sleep 600"]
health = { exec = ["test", "-f", "/tmp/inside-only"], interval = "1s", timeout = "1s" }
"#,
    )
    .await;
    assert_eq!(
        h.wait_startup().await,
        EventKind::StartupComplete { degraded: vec![] }
    );
    assert!(
        !std::path::Path::new("/tmp/inside-only").exists(),
        "the probe ran inside, not here"
    );
    docker(&["exec", "clara_checked", "rm", "/tmp/healthy"]);
    let reason = h.wait_state("checked", ServiceState::Unhealthy).await;
    assert_eq!(
        reason.as_deref(),
        Some("the image's health check says unhealthy")
    );
    h.shutdown().await;
    remove_containers(&["checked", "inside"]);
}

#[tokio::test]
async fn a_running_container_is_adopted_after_a_crash_and_replaced_when_changed() {
    let Some(_turn) = one_at_a_time().await else {
        return;
    };
    remove_containers(&["adoptee"]);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let text = web("adoptee", port, "env = { VERSION = \"1\" }");
    // First run: the CLI, killed outright; containers are left for adoption.
    let file = dir.path().join("services.toml");
    std::fs::write(&file, &text).expect("writes");
    let mut first = Command::new(supervisor_binary())
        .arg("up")
        .arg(&file)
        .arg("--json")
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = first.stdout.take().expect("piped");
    let ready = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains("startup-complete"))
    });
    assert!(
        tokio::time::timeout(PATIENCE, ready)
            .await
            .expect("in time")
            .expect("reads")
    );
    let id = docker(&["inspect", "clara_adoptee", "--format", "{{.Id}}"]);
    let started = docker(&[
        "inspect",
        "clara_adoptee",
        "--format",
        "{{.State.StartedAt}}",
    ]);
    first.kill().expect("kills");
    first.wait().expect("reaped");
    assert_eq!(
        docker(&["inspect", "clara_adoptee", "--format", "{{.State.Running}}"]),
        "true",
        "the container outlives a killed supervisor"
    );

    let mut second = Harness::in_dir(&text, dir, None).await;
    second.manager.start_all().await.expect("starts");
    second.wait_state("adoptee", ServiceState::Running).await;
    assert_eq!(
        docker(&["inspect", "clara_adoptee", "--format", "{{.Id}}"]),
        id,
        "the same container"
    );
    assert_eq!(
        docker(&[
            "inspect",
            "clara_adoptee",
            "--format",
            "{{.State.StartedAt}}"
        ]),
        started,
        "not restarted"
    );
    let detail = second.status_of("adoptee").await.detail;
    assert_eq!(
        detail.as_deref(),
        Some("CPU; adopted the running container")
    );
    second.shutdown().await;

    // A changed definition replaces the container.
    let changed = text.replace("VERSION = \"1\"", "VERSION = \"2\"");
    let mut third = Harness::in_dir(&changed, second.dir, None).await;
    third.manager.start_all().await.expect("starts");
    third.wait_state("adoptee", ServiceState::Running).await;
    assert_ne!(
        docker(&["inspect", "clara_adoptee", "--format", "{{.Id}}"]),
        id,
        "a new container"
    );
    let env = docker(&[
        "inspect",
        "clara_adoptee",
        "--format",
        "{{json .Config.Env}}",
    ]);
    assert!(env.contains("VERSION=2"), "{env}");
    third.shutdown().await;
    remove_containers(&["adoptee"]);
}

#[tokio::test]
async fn a_container_killed_behind_our_back_is_restarted() {
    let Some(_turn) = one_at_a_time().await else {
        return;
    };
    remove_containers(&["victim"]);
    let port = free_port();
    let mut h = Harness::up(&web("victim", port, "")).await;
    h.wait_startup().await;
    docker(&["kill", "clara_victim"]);
    let reason = h
        .wait_state("victim", ServiceState::Restarting)
        .await
        .expect("a reason");
    assert!(
        reason.starts_with("exited with code 137 — see its logs; restarting in "),
        "{reason}"
    );
    h.wait_state("victim", ServiceState::Running).await;
    assert_eq!(
        docker(&["inspect", "clara_victim", "--format", "{{.State.Running}}"]),
        "true"
    );
    let status = h.status_of("victim").await;
    assert_eq!(status.restarts, 1);
    h.shutdown().await;
    remove_containers(&["victim"]);
}

#[tokio::test]
async fn without_docker_the_rest_runs_and_containers_start_once_it_answers() {
    let Some(_turn) = one_at_a_time().await else {
        return;
    };
    remove_containers(&["patient"]);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let socket_dir = dir.path().join("engine");
    std::fs::create_dir_all(&socket_dir).expect("creates");
    let socket = socket_dir.join("docker.sock");
    let port = free_port();
    let text = format!(
        "{}\n[services.native]\ncommand = [\"sleep\", \"600\"]\n",
        web("patient", port, "critical = true")
    );
    let definitions = support::definitions(&text, dir.path());
    let mut config = ManagerConfig::new(dir.path().join("state"));
    config.guard_program = Some(supervisor_binary());
    config.docker_host = Some(format!("unix://{}", socket.display()));
    config.engine_recheck = Duration::from_millis(300);
    let (manager, _) = Manager::start(definitions, None, config).expect("starts");
    let (_, mut events) = manager.subscribe().await.expect("subscribes");
    manager.start_all().await.expect("starts");
    let mut seen = Vec::new();
    let complete = loop {
        let event = next(&mut events).await;
        seen.push(event.kind.to_string());
        if let EventKind::StartupComplete { degraded } = event.kind {
            break degraded;
        }
        assert!(
            !matches!(event.kind, EventKind::StartupFailed { .. }),
            "{seen:#?}"
        );
    };
    assert_eq!(
        complete,
        ["docker", "patient"],
        "degraded, not failed, though patient is critical"
    );
    let statuses = manager.status().await.expect("status");
    let state = |name: &str| {
        statuses
            .iter()
            .find(|s| s.name == name)
            .map(|s| (s.state, s.reason.clone()))
            .expect("known")
    };
    let expected = format!(
        "Docker does not answer at unix://{}: start it, or correct DOCKER_HOST, then choose Retry.",
        socket.display()
    );
    assert_eq!(state("docker").0, ServiceState::Error);
    assert!(
        state("docker").1.is_some_and(|r| r.starts_with(&expected)),
        "{:?}",
        state("docker")
    );
    assert_eq!(
        state("patient"),
        (
            ServiceState::Waiting,
            Some(format!("waiting for Docker: {expected}"))
        )
    );
    assert_eq!(state("native").0, ServiceState::Running);

    // Docker "comes back": the socket appears.
    std::os::unix::fs::symlink("/var/run/docker.sock", &socket).expect("links");
    loop {
        let event = next(&mut events).await;
        if let EventKind::ServiceStateChanged {
            name,
            current_state: ServiceState::Running,
            ..
        } = &event.kind
            && name == "patient"
        {
            break;
        }
    }
    tokio::time::timeout(PATIENCE, manager.shutdown())
        .await
        .expect("in time")
        .expect("stops");
    remove_containers(&["patient"]);
}

async fn next(
    events: &mut tokio::sync::broadcast::Receiver<clara_supervisor::events::Event>,
) -> clara_supervisor::events::Event {
    tokio::time::timeout(PATIENCE, events.recv())
        .await
        .expect("an event in time")
        .expect("an event")
}

#[tokio::test]
async fn a_failed_pull_says_why_and_disturbs_nothing_else() {
    let Some(_turn) = one_at_a_time().await else {
        return;
    };
    remove_containers(&["unpullable"]);
    let mut h = Harness::up(
        r#"
[services.unpullable]
image = "clara-test/does-not-exist:1"
restart = "never"

[services.native]
command = ["sleep", "600"]
"#,
    )
    .await;
    let reason = h
        .wait_state("unpullable", ServiceState::Error)
        .await
        .expect("a reason");
    assert!(
        reason.starts_with("cannot download the image clara-test/does-not-exist:1: "),
        "{reason}"
    );
    assert!(
        [
            "the registry cannot be reached",
            "access was denied",
            "it does not exist"
        ]
        .iter()
        .any(|why| reason.contains(why)),
        "{reason}"
    );
    assert_eq!(
        h.wait_startup().await,
        EventKind::StartupComplete {
            degraded: vec!["unpullable".into()]
        }
    );
    let native = h.status_of("native").await;
    assert_eq!(native.state, ServiceState::Running);
    h.shutdown().await;
}

#[tokio::test]
async fn a_stray_container_of_a_service_no_longer_defined_is_removed() {
    let Some(_turn) = one_at_a_time().await else {
        return;
    };
    remove_containers(&["ghost", "keeper"]);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let project = format!(
        "claraverse.project={}",
        support::project_of(&dir.path().join("state"))
    );
    docker(&[
        "create",
        "--name",
        "clara_ghost",
        "--label",
        "claraverse.managed=true",
        "--label",
        "claraverse.service=ghost",
        "--label",
        &project,
        "clara-test/busybox:1",
        "sleep",
        "600",
    ]);
    docker(&[
        "create",
        "--name",
        "not_ours",
        "--label",
        "something=else",
        "clara-test/busybox:1",
        "sleep",
        "1",
    ]);
    assert_eq!(
        docker(&["inspect", "clara_ghost", "--format", "{{.Name}}"]),
        "/clara_ghost"
    );
    let mut h = Harness::in_dir(
        "[services.keeper]\nimage = \"clara-test/busybox:1\"\ncommand = [\"sleep\", \"600\"]\n",
        dir,
        None,
    )
    .await;
    h.manager.start_all().await.expect("starts");
    h.wait_state("keeper", ServiceState::Running).await;
    assert!(
        eventually(PATIENCE, || docker(&[
            "ps",
            "-a",
            "--filter",
            "name=clara_ghost",
            "--format",
            "{{.Names}}"
        ])
        .is_empty())
        .await
    );
    assert_eq!(
        docker(&["inspect", "not_ours", "--format", "{{.Name}}"]),
        "/not_ours",
        "unlabelled containers are not ours"
    );
    docker(&["rm", "-f", "not_ours"]);
    h.shutdown().await;
    remove_containers(&["keeper"]);
}

#[tokio::test]
async fn containers_that_are_not_ours_survive_start_stop_and_stray_clean_up() {
    let Some(_turn) = one_at_a_time().await else {
        return;
    };
    let names = ["taken", "mine", "elsewhere", "oldstyle"];
    remove_containers(&names);
    // Holds a name we want, made by someone else.
    docker(&[
        "run",
        "-d",
        "--name",
        "clara_taken",
        "clara-test/busybox:1",
        "sleep",
        "600",
    ]);
    let taken = docker(&["inspect", "clara_taken", "--format", "{{.Id}}"]);
    // A stray of another setup, and one of this app before containers had projects.
    for (name, project) in [
        ("elsewhere", Some("claraverse.project=another-setup")),
        ("oldstyle", None),
    ] {
        let container = format!("clara_{name}");
        let service = format!("claraverse.service={name}");
        let mut args = vec![
            "create",
            "--name",
            &container,
            "--label",
            "claraverse.managed=true",
            "--label",
            &service,
        ];
        if let Some(project) = project {
            args.extend(["--label", project]);
        }
        args.extend(["clara-test/busybox:1", "sleep", "600"]);
        docker(&args);
    }
    let text = r#"
[services.taken]
image = "clara-test/busybox:1"
command = ["sleep", "600"]
critical = true

[services.mine]
image = "clara-test/busybox:1"
command = ["sleep", "600"]
"#;
    let mut h = Harness::up(text).await;
    let outcome = h.wait_startup().await;
    assert_eq!(
        outcome,
        EventKind::StartupComplete {
            degraded: vec!["taken".to_string()]
        },
        "degraded, not failed, though taken is critical:\n{}",
        h.history()
    );
    let status = h.status_of("taken").await;
    assert_eq!(status.state, ServiceState::Error);
    let error = status.last_error.expect("an error");
    assert_eq!(error.cause, FailureCause::NameTaken);
    assert_eq!(
        error.message,
        "a container named clara_taken that ClaraVerse did not make holds this name, so it is \
         left alone: rename it (docker rename clara_taken clara_taken-old) or remove it, then \
         choose Retry"
    );
    h.shutdown().await;
    assert_eq!(
        docker(&[
            "inspect",
            "clara_taken",
            "--format",
            "{{.Id}} {{.State.Running}}"
        ]),
        format!("{taken} true"),
        "the container that holds our name is the same, and still runs"
    );
    for name in ["clara_elsewhere", "clara_oldstyle"] {
        assert_eq!(
            docker(&["inspect", name, "--format", "{{.Name}}"]),
            format!("/{name}"),
            "{name} is not ours to remove"
        );
    }
    remove_containers(&names);
}

#[tokio::test]
async fn containers_of_other_definitions_on_the_same_state_folder_survive() {
    let Some(_turn) = one_at_a_time().await else {
        return;
    };
    remove_containers(&["first", "second"]);
    let service = |name: &str| {
        format!(
            "[services.{name}]\nimage = \"clara-test/busybox:1\"\ncommand = [\"sleep\", \"600\"]\n"
        )
    };
    let mut h = Harness::up(&service("first")).await;
    h.wait_state("first", ServiceState::Running).await;
    h.shutdown().await;

    // Another definitions file, run on the same state folder: `first` is not a stray of it.
    let mut config = support::config(&h.dir.path().join("state"));
    config.definitions_name = "/somewhere/other.toml".to_string();
    let definitions = support::definitions(&service("second"), h.dir.path());
    let (manager, _) = Manager::start(definitions, None, config).expect("starts");
    let (_, mut events) = manager.subscribe().await.expect("subscribes");
    manager.start_all().await.expect("starts");
    loop {
        let event = next(&mut events).await;
        if matches!(&event.kind, EventKind::ServiceStateChanged { name, current_state: ServiceState::Running, .. } if name == "second")
        {
            break;
        }
    }
    assert_eq!(
        docker(&["inspect", "clara_first", "--format", "{{.Name}}"]),
        "/clara_first",
        "the container of the other definitions is left alone"
    );
    tokio::time::timeout(PATIENCE, manager.shutdown())
        .await
        .expect("in time")
        .expect("stops");
    remove_containers(&["first", "second"]);
}

#[tokio::test]
async fn features_switch_containers_on_and_off() {
    let Some(_turn) = one_at_a_time().await else {
        return;
    };
    remove_containers(&["optional"]);
    let mut h = Harness::up(
        "[features.extra]\nlabel = \"Extra\"\n\n[services.optional]\nfeature = \"extra\"\nimage = \"clara-test/busybox:1\"\ncommand = [\"sleep\", \"600\"]\n",
    )
    .await;
    h.wait_startup().await;
    h.manager
        .set_features(BTreeSet::from(["extra".to_string()]))
        .await
        .expect("valid");
    h.wait_state("optional", ServiceState::Running).await;
    h.manager
        .set_features(BTreeSet::new())
        .await
        .expect("valid");
    h.wait_state("optional", ServiceState::Disabled).await;
    assert_eq!(
        docker(&[
            "inspect",
            "clara_optional",
            "--format",
            "{{.State.Running}}"
        ]),
        "false"
    );
    h.shutdown().await;
    remove_containers(&["optional"]);
}

#[tokio::test]
async fn a_container_that_exits_at_once_is_seen_every_time() {
    let Some(_turn) = one_at_a_time().await else {
        return;
    };
    remove_containers(&["quick"]);
    let mut h = Harness::up(
        r#"
[services.quick]
image = "clara-test/busybox:1"
command = ["sh", "-c", "echo bye; exit 3"]
restart = { policy = "on-failure", backoff = "10ms", max_restarts = 2 }
"#,
    )
    .await;
    let reason = h
        .wait_state("quick", ServiceState::Error)
        .await
        .expect("a reason");
    assert!(
        reason.starts_with("crash loop: 3 exits in ")
            && reason.contains(", last exit code 3 — see the logs"),
        "{reason}"
    );
    let logs = h.manager.logs("quick", 10).await.expect("logs");
    assert!(
        logs.iter().any(|line| line.text == "bye"),
        "the container's output reaches its log: {logs:?}"
    );
    h.shutdown().await;
    remove_containers(&["quick"]);
}

/// A container that ignores SIGTERM is stopped only when Docker has killed it, after its
/// `stop_timeout`, even when that is longer than a request to the engine may take: the
/// service is never said to be stopped while its container still runs.
#[tokio::test]
async fn a_slow_container_is_stopped_only_once_it_has_ended() {
    let Some(_turn) = one_at_a_time().await else {
        return;
    };
    remove_containers(&["slow"]);
    let mut h = Harness::up(
        r#"
[services.slow]
image = "clara-test/busybox:1"
# The shell ignores SIGTERM: Docker kills it when the stop timeout runs out.
command = ["sh", "-c", "trap '' TERM; echo up; while true; do sleep 1; done"]
stop_timeout = "10s"
health = { log = "up" }
"#,
    )
    .await;
    assert_eq!(
        h.wait_startup().await,
        EventKind::StartupComplete { degraded: vec![] }
    );
    let began = std::time::Instant::now();
    h.manager.stop_service("slow").await.expect("stops");
    h.wait_state("slow", ServiceState::Stopped).await;
    let running = docker(&["inspect", "-f", "{{.State.Running}}", "clara_slow"]);
    let took = began.elapsed();
    h.shutdown().await;
    remove_containers(&["slow"]);
    assert_eq!(
        running, "false",
        "said stopped after {took:?}, while the container ran"
    );
    assert!(took >= Duration::from_secs(9), "stopped after {took:?}");
}
