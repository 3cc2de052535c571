//! The reconciler's decisions from tables: each case is a definitions file and a script of
//! commands, facts and expectations (see `script.rs`), played through [`super::Sim`].

use super::script::{Case, Step::*, play};
use crate::state::ServiceState::*;
use crate::status::FailureCause;

/// Four services in three waves, and the same with a probe on the first.
const DIAMOND: &str = r#"
[services.a]
command = ["a"]
[services.b]
command = ["b"]
depends_on = ["a"]
[services.c]
command = ["c"]
depends_on = ["a"]
[services.d]
command = ["d"]
depends_on = ["b", "c"]
"#;

/// A critical service without a health check, a dependent that waits for it to run and
/// one that only waits for it to have started.
const NO_HEALTH_CHECK: &str = r#"
[services.db]
command = ["db"]
critical = true
restart = "never"
[services.api]
command = ["api"]
depends_on = ["db"]
[services.logger]
command = ["logger"]
depends_on = { db = "started" }
"#;

const CASES: &[Case] = &[
    Case {
        name: "without a health check, a service runs once it stayed up for min_uptime",
        toml: NO_HEALTH_CHECK,
        script: &[
            StartAll,
            Starts(&["db"]),
            Launched("db"),
            Starts(&["logger"]),
            States(&[("db", Starting), ("api", Waiting)]),
            Timer("db", 1),
            Fire("db"),
            States(&[("db", Running)]),
            Starts(&["api"]),
        ],
    },
    Case {
        name: "without a health check, an exit before min_uptime fails a critical start",
        toml: NO_HEALTH_CHECK,
        script: &[
            StartAll,
            Starts(&["db"]),
            Launched("db"),
            Exits("db", 3),
            Failed(
                "db",
                "db could not start: exited with code 3 — see its logs",
            ),
            Starts(&[]),
        ],
    },
    Case {
        name: "without a health check, an exit before min_uptime is an error, and said so",
        toml: r#"
[services.db]
command = ["db"]
restart = "never"
[services.api]
command = ["api"]
depends_on = ["db"]
"#,
        script: &[
            StartAll,
            Launched("db"),
            Exits("db", 3),
            States(&[("db", Error), ("api", Error)]),
            Reason("db", "exited with code 3 — see its logs"),
            Reason("api", "dependency db failed"),
            Starts(&[]),
            // Its timer, set for when it would have stayed up, means nothing now.
            Fire("db"),
            States(&[("db", Error)]),
            Starts(&[]),
        ],
    },
    Case {
        name: "min_uptime = 0s: running as soon as started",
        toml: r#"
[services.quick]
command = ["quick"]
min_uptime = "0s"
"#,
        script: &[
            StartAll,
            Launched("quick"),
            States(&[("quick", Running)]),
            Complete(&[]),
        ],
    },
    Case {
        name: "each service starts the moment its dependencies are ready",
        toml: DIAMOND,
        script: &[
            StartAll,
            Starts(&["a"]),
            States(&[("b", Waiting), ("c", Waiting), ("d", Waiting)]),
            Reason("b", "waiting for a to be ready"),
            Started("a"),
            Starts(&["b", "c"]),
            Started("c"),
            Starts(&[]),
            Reason("d", "waiting for b to be ready"),
            Started("b"),
            Starts(&["d"]),
            Started("d"),
            Complete(&[]),
        ],
    },
    Case {
        name: "healthy waits for the probe, started does not",
        toml: r#"
[services.db]
command = ["db"]
health = { tcp = "127.0.0.1:5432" }
[services.api]
command = ["api"]
depends_on = ["db"]
[services.logger]
command = ["logger"]
depends_on = { db = "started" }
"#,
        script: &[
            StartAll,
            Starts(&["db"]),
            Started("db"),
            Starts(&["logger"]),
            States(&[("db", Starting), ("api", Waiting)]),
            Ready("db"),
            Starts(&["api"]),
            States(&[("db", Running)]),
        ],
    },
    Case {
        name: "completed waits for a clean exit, and a failed one fails the dependent",
        toml: r#"
[services.migrate]
command = ["migrate"]
restart = { policy = "never" }
[services.app]
command = ["app"]
depends_on = { migrate = "completed" }
"#,
        script: &[
            StartAll,
            Started("migrate"),
            Reason("app", "waiting for migrate to complete"),
            Exits("migrate", 0),
            Starts(&["app"]),
            States(&[("migrate", Stopped)]),
            Reason("migrate", "completed (exited with code 0)"),
            Started("app"),
            Complete(&[]),
            Restart("migrate"),
            Starts(&["migrate"]),
            Started("migrate"),
            Exits("migrate", 3),
            States(&[("migrate", Error)]),
        ],
    },
    Case {
        name: "a dependency that fails puts its dependents in error; they recover with it",
        toml: r#"
[services.db]
command = ["db"]
restart = { policy = "never" }
[services.api]
command = ["api"]
depends_on = ["db"]
"#,
        script: &[
            StartAll,
            Started("db"),
            Started("api"),
            Complete(&[]),
            Exits("db", 1),
            States(&[("db", Error), ("api", Running)]),
            Restart("db"),
            Starts(&["db"]),
            Started("db"),
            States(&[("db", Running), ("api", Running)]),
        ],
    },
    Case {
        name: "a failure at start-up: dependents fail, the rest runs, the start-up degrades",
        toml: r#"
[services.broken]
command = ["broken"]
health = { tcp = "127.0.0.1:1" }
restart = { policy = "never" }
[services.dependent]
command = ["dependent"]
depends_on = ["broken"]
[services.fine]
command = ["fine"]
"#,
        script: &[
            StartAll,
            Starts(&["broken", "fine"]),
            Started("broken"),
            Started("fine"),
            Exits("broken", 2),
            States(&[("broken", Error), ("dependent", Error), ("fine", Running)]),
            Reason("dependent", "dependency broken failed"),
            Complete(&["broken", "dependent"]),
            Restart("broken"),
            Starts(&["broken"]),
            Started("broken"),
            States(&[("dependent", Waiting)]),
            Ready("broken"),
            Starts(&["dependent"]),
        ],
    },
    Case {
        name: "a critical failure fails the start-up and stops the rest in reverse order",
        toml: r#"
[services.base]
command = ["base"]
[services.fine]
command = ["fine"]
depends_on = ["base"]
[services.core]
critical = true
command = ["core"]
health = { tcp = "127.0.0.1:1" }
restart = { policy = "never" }
"#,
        script: &[
            StartAll,
            Starts(&["base", "core"]),
            Started("base"),
            Started("fine"),
            Started("core"),
            Exits("core", 1),
            Failed(
                "core",
                "core could not start: exited with code 1 — see its logs",
            ),
            Stops(&["fine"]),
            States(&[("base", Running), ("fine", Stopping)]),
            StopDone("fine"),
            Stops(&["base"]),
            StopDone("base"),
            States(&[("base", Stopped), ("fine", Stopped), ("core", Stopped)]),
        ],
    },
    Case {
        name: "something missing from this machine degrades even a critical service",
        toml: r#"
[services.core]
critical = true
command = ["/nonexistent/llama-swap"]
[services.mcp]
command = ["mcp"]
depends_on = ["core"]
[services.fine]
command = ["fine"]
"#,
        script: &[
            StartAll,
            Started("fine"),
            StartFails("core", FailureCause::Missing),
            // The bridge waits for what is missing: nothing of its own failed.
            States(&[("core", Error), ("mcp", Waiting), ("fine", Running)]),
            Reason("core", "cannot start core; trying again in 5m"),
            Reason(
                "mcp",
                "waiting for core, which cannot start yet: cannot start core",
            ),
            Timer("core", 300),
            Complete(&["core", "mcp"]),
            Fire("core"),
            Starts(&["core"]),
            Started("core"),
            Starts(&["mcp"]),
        ],
    },
    Case {
        name: "containers wait for an unreachable engine, which is asked again every 3 s",
        toml: r#"
[services.docker]
engine = "docker"
[services.comfyui]
image = "comfyui:1"
[services.fine]
command = ["fine"]
"#,
        script: &[
            StartAll,
            Starts(&["docker", "fine"]),
            Started("fine"),
            StartFails("docker", FailureCause::EngineUnavailable),
            Timer("docker", 3),
            States(&[("docker", Error), ("comfyui", Waiting)]),
            Reason("comfyui", "waiting for Docker: cannot start docker"),
            Complete(&["comfyui", "docker"]),
            Fire("docker"),
            Starts(&["docker"]),
            Started("docker"),
            Ready("docker"),
            Starts(&["comfyui"]),
        ],
    },
    Case {
        name: "the engine stops under running containers: both wait for it, counting no restart",
        toml: r#"
[services.docker]
engine = "docker"
[services.web]
image = "web:1"
restart = { policy = "on-failure", max_restarts = 1, window = "1m" }
"#,
        script: &[
            StartAll,
            Starts(&["docker"]),
            Started("docker"),
            Ready("docker"),
            Starts(&["web"]),
            Started("web"),
            EngineLost("web"),
            States(&[("web", Error)]),
            Reason(
                "web",
                "Docker stopped, and its container with it; trying again in 3.0s",
            ),
            Timer("web", 3),
            Restarts("web", 0),
            ProbeFails("docker"),
            Stops(&["docker"]),
            StopDone("docker"),
            States(&[("docker", Error), ("web", Waiting)]),
            Reason("docker", "refused; trying again in 3.0s"),
            Reason("web", "waiting for Docker: refused"),
            Restarts("docker", 0),
            // Once Docker answers, what waited for it starts at once, not at its next try.
            Fire("docker"),
            Starts(&["docker"]),
            Started("docker"),
            Ready("docker"),
            Starts(&["web"]),
            // As often as Docker may be restarted: never a crash loop.
            Started("web"),
            EngineLost("web"),
            Fire("web"),
            Starts(&["web"]),
            Started("web"),
            EngineLost("web"),
            States(&[("web", Error)]),
            Restarts("web", 0),
        ],
    },
    Case {
        name: "crashes restart with growing delays, then a crash loop gives up for a while",
        toml: r#"
[services.flaky]
command = ["flaky"]
restart = { policy = "always", max_restarts = 2, window = "1m", backoff = "1s", max_backoff = "4s" }
"#,
        script: &[
            StartAll,
            Started("flaky"),
            Exits("flaky", 1),
            States(&[("flaky", Restarting)]),
            Backoff("flaky", 800, 1200),
            Fire("flaky"),
            Starts(&["flaky"]),
            Started("flaky"),
            Exits("flaky", 1),
            Backoff("flaky", 1600, 2400),
            Fire("flaky"),
            Started("flaky"),
            Exits("flaky", 1),
            States(&[("flaky", Error)]),
            Timer("flaky", 300),
            Fire("flaky"),
            Starts(&["flaky"]),
        ],
    },
    Case {
        name: "a restarted dependency takes the dependents that follow it along",
        toml: r#"
[services.db]
command = ["db"]
[services.api]
command = ["api"]
depends_on = { db = { condition = "healthy", restart = true } }
[services.web]
command = ["web"]
depends_on = ["db"]
"#,
        script: &[
            StartAll,
            Settle,
            Complete(&[]),
            Restart("db"),
            Stops(&["db"]),
            StopDone("db"),
            Starts(&["db"]),
            Started("db"),
            Stops(&["api"]),
            States(&[("db", Running), ("api", Stopping), ("web", Running)]),
            StopDone("api"),
            Starts(&["api"]),
        ],
    },
    Case {
        name: "a dependency that crashes and comes back restarts its followers",
        toml: r#"
[services.db]
command = ["db"]
restart = { policy = "on-failure", backoff = "1s" }
[services.api]
command = ["api"]
depends_on = { db = { condition = "healthy", restart = true } }
"#,
        script: &[
            StartAll,
            Settle,
            Exits("db", 1),
            States(&[("db", Restarting), ("api", Running)]),
            Fire("db"),
            Starts(&["db"]),
            Started("db"),
            Stops(&["api"]),
            StopDone("api"),
            Starts(&["api"]),
            States(&[("api", Starting)]),
        ],
    },
    Case {
        name: "not ready in time, and unhealthy later: stopped, then restarted",
        toml: r#"
[services.web]
command = ["web"]
health = { http = "http://127.0.0.1:1/" }
restart = { policy = "on-failure", backoff = "2s" }
"#,
        script: &[
            StartAll,
            Started("web"),
            NotReady("web"),
            Stops(&["web"]),
            StopDone("web"),
            States(&[("web", Restarting)]),
            ReasonStarts("web", "did not become ready within 1m; restarting in "),
            Fire("web"),
            Started("web"),
            Ready("web"),
            States(&[("web", Running)]),
            ProbeFails("web"),
            Stops(&["web"]),
            StopDone("web"),
            States(&[("web", Restarting)]),
        ],
    },
    Case {
        name: "a user stop takes the dependents first; a start brings them back",
        toml: r#"
[services.a]
command = ["a"]
[services.b]
command = ["b"]
depends_on = ["a"]
[services.c]
command = ["c"]
"#,
        script: &[
            StartAll,
            Settle,
            Stop("a"),
            Stops(&["b"]),
            States(&[("a", Running), ("b", Stopping), ("c", Running)]),
            StopDone("b"),
            Stops(&["a"]),
            StopDone("a"),
            Reason("a", "stopped by the user"),
            Reason("b", "stopped because a was stopped"),
            StopAll,
            Settle,
            StartAll,
            Starts(&["c"]),
            Settle,
            States(&[("a", Stopped), ("b", Stopped), ("c", Running)]),
            Start("a"),
            Starts(&["a"]),
            Started("a"),
            Starts(&["b"]),
        ],
    },
    Case {
        name: "stop-all stops dependents before what they need",
        toml: r#"
[services.db]
command = ["db"]
[services.api]
command = ["api"]
depends_on = ["db"]
[services.web]
command = ["web"]
depends_on = ["api"]
"#,
        script: &[
            StartAll,
            Settle,
            StopAll,
            Stops(&["web"]),
            StopDone("web"),
            Stops(&["api"]),
            StopDone("api"),
            Stops(&["db"]),
            StopDone("db"),
            States(&[("db", Stopped), ("api", Stopped), ("web", Stopped)]),
        ],
    },
    Case {
        name: "a feature turned off mid start-up stops its services, once started",
        toml: r#"
[features.images]
label = "Images"
default = true
[services.base]
command = ["base"]
[services.comfyui]
feature = "images"
command = ["comfyui"]
depends_on = ["base"]
"#,
        script: &[
            StartAll,
            Started("base"),
            Starts(&["comfyui"]),
            Features(&[]),
            Stops(&["comfyui"]),
            States(&[("comfyui", Stopping)]),
            Started("comfyui"),
            Stops(&["comfyui"]),
            StopDone("comfyui"),
            States(&[("comfyui", Disabled), ("base", Running)]),
            Complete(&[]),
            Features(&["images"]),
            Starts(&["comfyui"]),
        ],
    },
];

#[test]
fn the_reconciler_follows_every_table() {
    for case in CASES {
        play(case);
    }
}
