//! Native processes: installed first when their program is missing (see [`crate::install`])
//! and made ready (see [`crate::prepare`]), started from an argument vector (never a shell), each in its own
//! process group (Unix) or Job Object (Windows), output drained, exit seen when it happens,
//! stopped as a whole group. On Windows a service opens no console window, and is created
//! suspended so that it runs only once it is inside its Job Object.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

use super::guard::Guard;
use super::mark::{self, InstanceMark, RunMark};
use super::{
    BoxFuture, ExitReport, Instance, Runtime, StartError, StartRequest, StopRequest, leftovers,
    ports,
};
use crate::definitions::{self, Service};
use crate::install::{self, Installer};
use crate::output;
use crate::prepare::{self, PrepareError};
use crate::status::{ExitInfo, FailureCause};

/// How long to wait for a killed group to be confirmed empty.
const CONFIRM_EMPTY_WITHIN: Duration = Duration::from_secs(2);

/// Starts native processes, each watched by the orphan guard and marked as this run's.
pub struct ProcessRuntime {
    guard: Guard,
    mark: Arc<RunMark>,
    alive: mpsc::Sender<()>,
    installer: Installer,
}

/// Resolves once a process runtime and every instance it started are gone: what a manager
/// that failed waits for before it says its services were stopped.
#[derive(Debug)]
pub struct AllEnded(mpsc::Receiver<()>);

impl AllEnded {
    /// Waits until the runtime is dropped and each of its instances has ended.
    pub async fn wait(mut self) {
        while self.0.recv().await.is_some() {}
    }
}

impl ProcessRuntime {
    /// A runtime whose processes `guard` watches and that carry marks of `mark`, and what
    /// tells when it and all its instances are gone.
    pub fn new(guard: Guard, mark: Arc<RunMark>) -> (Self, AllEnded) {
        // Nothing is ever sent: each instance's task holds a sender until it ends.
        let (alive, ended) = mpsc::channel(1);
        let runtime = ProcessRuntime {
            guard,
            mark,
            alive,
            installer: Installer::new(install::STALL_TIMEOUT),
        };
        (runtime, AllEnded(ended))
    }
}

impl Runtime for ProcessRuntime {
    fn start(&self, request: StartRequest) -> BoxFuture<'_, Result<Instance, StartError>> {
        let watch = Watch {
            guard: self.guard.clone(),
            mark: self.mark.instance(&request.service.name),
            alive: self.alive.clone(),
        };
        let installer = self.installer.clone();
        Box::pin(async move {
            if let Some(install) = &request.service.install {
                installer
                    .ensure(install, &request.progress)
                    .await
                    .map_err(|error| StartError {
                        message: error.message,
                        detail: error.detail,
                        cause: FailureCause::ProgramDownload,
                    })?;
            }
            let detail = match request.service.prepare.clone() {
                Some(prepare) => made_ready(prepare).await?,
                None => None,
            };
            start(watch, request).map(|instance| Instance { detail, ..instance })
        })
    }
}

/// Makes a service ready before its start (see [`crate::prepare`]); what is worth showing.
async fn made_ready(prepare: definitions::Prepare) -> Result<Option<String>, StartError> {
    let prepared = tokio::task::spawn_blocking(move || prepare::run(&prepare))
        .await
        .unwrap_or_else(|error| {
            Err(PrepareError {
                message: format!("could not be made ready ({error})"),
                needs_the_user: false,
            })
        });
    prepared.map_err(|error| {
        let cause = if error.needs_the_user {
            FailureCause::NotSetUp
        } else {
            FailureCause::Other
        };
        StartError::new(error.message).because(cause)
    })
}

/// What keeps an eye on one instance: the guard, its mark, and the runtime's count of live
/// instances.
struct Watch {
    guard: Guard,
    mark: InstanceMark,
    alive: mpsc::Sender<()>,
}

fn start(watch: Watch, request: StartRequest) -> Result<Instance, StartError> {
    let Watch { guard, mark, alive } = watch;
    let StartRequest {
        service, output, ..
    } = request;
    let definitions::RuntimeKind::Process { command } = &service.runtime else {
        return Err(StartError::new("is not a native process"));
    };
    for port in &service.ports {
        if let Some(taken) = ports::in_use(port) {
            return Err(StartError::new(format!(
                "cannot start: {taken}; close that program or give this service another port"
            ))
            .because(FailureCause::PortInUse));
        }
    }
    if let Some(cwd) = &service.cwd
        && !cwd.is_dir()
    {
        return Err(StartError::new(format!(
            "cannot start: its working directory {} does not exist",
            cwd.display()
        ))
        .because(FailureCause::Missing));
    }
    let (program, args) = command
        .split_first()
        .ok_or_else(|| StartError::new("cannot start: its command is empty"))?;
    let program = resolve_program(program, service.cwd.as_deref());
    let mut child = spawn(&program, args, &service, &mark)
        .map_err(|error| describe_spawn_error(&program, &error))?;
    let pid = child.id();
    let process_group = match watch_group(&guard, &child) {
        Ok(group) => group,
        Err(error) => {
            // Never left behind: on Windows it has not run yet (it was created suspended).
            let _ = child.start_kill();
            return Err(error);
        }
    };
    let group_id = process_group.as_ref().map(ProcessGroup::id);
    let start_time = pid.and_then(leftovers::start_time);
    tokio::spawn(output::drain(
        child.stdout.take(),
        child.stderr.take(),
        output,
    ));
    let (stop, stop_requested) = oneshot::channel();
    let (report, exited) = oneshot::channel();
    let when_orphaned = StopRequest {
        signal: service.stop_signal,
        timeout: service.stop_timeout,
    };
    tokio::spawn(supervise(
        child,
        process_group,
        Watch { guard, mark, alive },
        Stopping {
            requested: stop_requested,
            when_orphaned,
        },
        report,
    ));
    Ok(Instance {
        pid,
        start_time,
        process_group: group_id,
        stop,
        exited,
        detail: None,
    })
}

/// A relative program path with a directory part is relative to the service's cwd.
fn resolve_program(program: &str, cwd: Option<&Path>) -> PathBuf {
    let path = PathBuf::from(program);
    match cwd {
        Some(cwd) if path.is_relative() && path.components().count() > 1 => cwd.join(path),
        _ => path,
    }
}

fn spawn(
    program: &Path,
    args: &[String],
    service: &Service,
    mark: &InstanceMark,
) -> std::io::Result<Child> {
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(&service.env)
        .env(mark::VARIABLE, &mark.value)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    if let Some(cwd) = &service.cwd {
        command.current_dir(cwd);
    }
    #[cfg(unix)]
    command.process_group(0);
    // Its own process group (for console signals), no console window, and suspended:
    // it runs its first instruction only once it is in its Job Object (`ProcessGroup::of`),
    // so nothing it starts can escape the job.
    #[cfg(windows)]
    {
        use windows_sys::Win32::System::Threading::{
            CREATE_NEW_PROCESS_GROUP, CREATE_NO_WINDOW, CREATE_SUSPENDED,
        };
        command.creation_flags(CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW | CREATE_SUSPENDED);
    }
    command.spawn()
}

/// A command for a short helper program, such as an `exec` health check: its output is
/// the caller's to collect, and on Windows it opens no console window.
pub fn helper_command(program: &str) -> Command {
    #[cfg_attr(not(windows), allow(unused_mut))]
    let mut command = Command::new(program);
    #[cfg(windows)]
    command.creation_flags(windows_sys::Win32::System::Threading::CREATE_NO_WINDOW);
    command
}

fn describe_spawn_error(program: &Path, error: &std::io::Error) -> StartError {
    let message = match error.kind() {
        std::io::ErrorKind::NotFound => format!(
            "cannot start: the program {} was not found",
            program.display()
        ),
        std::io::ErrorKind::PermissionDenied => {
            format!(
                "cannot start: the program {} is not executable (permission denied)",
                program.display()
            )
        }
        _ => format!("cannot start the program {}", program.display()),
    };
    let failure = StartError {
        detail: Some(error.to_string()),
        ..StartError::new(message)
    };
    if error.kind() == std::io::ErrorKind::NotFound {
        failure.because(FailureCause::Missing)
    } else {
        failure
    }
}

/// How an instance is asked to stop: by its manager, or, when the manager is gone without
/// asking (it failed), as its definition says.
struct Stopping {
    requested: oneshot::Receiver<StopRequest>,
    when_orphaned: StopRequest,
}

/// Supervises one instance until it ends, by itself or on request; then makes sure nothing
/// of its group is left, nor (Linux) anything else that carries its mark, and reports how
/// it ended. A stop is reported once all is gone; an exit by itself at once (a restart
/// need not wait), the marked processes being ended right after. An instance whose
/// manager is gone is stopped: nothing runs unsupervised.
async fn supervise(
    mut child: Child,
    group: Option<ProcessGroup>,
    watch: Watch,
    stopping: Stopping,
    report: oneshot::Sender<ExitReport>,
) {
    let Watch {
        guard,
        mark,
        alive: _alive,
    } = watch;
    let Stopping {
        requested: mut stop_requested,
        when_orphaned,
    } = stopping;
    let (status, requested, killed) = tokio::select! {
        status = child.wait() => (status, false, false),
        request = &mut stop_requested => {
            let request = request.unwrap_or(when_orphaned);
            if let Some(group) = &group {
                group.signal(request.signal);
                // A stopped (SIGSTOP) process acts on its stop signal only once continued.
                group.resume();
            }
            match tokio::time::timeout(request.timeout, child.wait()).await {
                Ok(status) => (status, true, false),
                Err(_) => {
                    match &group {
                        Some(group) => group.kill(),
                        None => {
                            let _ = child.start_kill();
                        }
                    }
                    (child.wait().await, true, true)
                }
            }
        }
    };
    if let Some(group) = group {
        if !group.kill_and_confirm_empty(CONFIRM_EMPTY_WITHIN).await {
            tracing::warn!(
                "process group {} still has members after being killed",
                group.id()
            );
        }
        guard.forget(group.id());
    }
    let mark = if requested {
        end_marked(mark).await;
        None
    } else {
        Some(mark)
    };
    let ending = match status {
        Ok(status) => ending_of(status),
        Err(error) => {
            tracing::error!("cannot learn how a process ended: {error}");
            ExitInfo::code(-1)
        }
    };
    // The manager may be gone (shutting down): nobody to tell then.
    let _ = report.send(ExitReport {
        exit: ending,
        requested,
        killed,
        engine_lost: false,
    });
    if let Some(mark) = mark {
        end_marked(mark).await;
    }
}

/// Ends what carries the instance's mark and outlived its group (Linux; elsewhere a process
/// that leaves its group is not found: README's "What each platform guarantees").
async fn end_marked(mark: InstanceMark) {
    #[cfg(target_os = "linux")]
    {
        let ended =
            tokio::task::spawn_blocking(move || super::leftovers::kill_marked(&mark.prefix));
        if let Ok(ended) = ended.await {
            for (service, count) in ended {
                tracing::info!("ended {count} process(es) of {service} that had left its group");
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = mark;
}

fn ending_of(status: std::process::ExitStatus) -> ExitInfo {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return ExitInfo::signal(signal);
        }
    }
    ExitInfo::code(status.code().unwrap_or(-1))
}

/// Puts the new process under watch: its group is told to the guard (Unix), or it is put
/// in its Job Object and only then let run (Windows).
fn watch_group(guard: &Guard, child: &Child) -> Result<Option<ProcessGroup>, StartError> {
    let group = ProcessGroup::of(child).map_err(|error| StartError {
        detail: Some(error.to_string()),
        ..StartError::new("cannot start: its processes could not be grouped for a clean stop")
    })?;
    if let Some(group) = &group {
        guard.watch(group.id());
    }
    Ok(group)
}

#[cfg(unix)]
use unix::ProcessGroup;
#[cfg(windows)]
use windows::ProcessGroup;

#[cfg(unix)]
mod unix {
    use std::time::{Duration, Instant};

    use nix::errno::Errno;
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    use tokio::process::Child;

    use crate::definitions::StopSignal;

    /// The process group a service leads.
    #[derive(Debug, Clone, Copy)]
    pub struct ProcessGroup(i32);

    impl ProcessGroup {
        pub fn of(child: &Child) -> std::io::Result<Option<ProcessGroup>> {
            Ok(child.id().map(|pid| ProcessGroup(pid as i32)))
        }

        pub fn id(&self) -> i32 {
            self.0
        }

        pub fn signal(&self, signal: StopSignal) {
            let signal = match signal {
                StopSignal::Term => Signal::SIGTERM,
                StopSignal::Int => Signal::SIGINT,
                StopSignal::Quit => Signal::SIGQUIT,
                StopSignal::Hup => Signal::SIGHUP,
                StopSignal::Usr1 => Signal::SIGUSR1,
                StopSignal::Usr2 => Signal::SIGUSR2,
                StopSignal::Kill => Signal::SIGKILL,
            };
            // An empty group has nothing left to stop.
            let _ = killpg(Pid::from_raw(self.0), signal);
        }

        pub fn kill(&self) {
            let _ = killpg(Pid::from_raw(self.0), Signal::SIGKILL);
        }

        /// Continues members stopped by SIGSTOP, as systemd does after a stop signal.
        pub fn resume(&self) {
            let _ = killpg(Pid::from_raw(self.0), Signal::SIGCONT);
        }

        /// Kills whatever is left in the group and waits until the group is empty. Killed
        /// members that wait to be reaped by init (zombies) no longer count.
        pub async fn kill_and_confirm_empty(&self, within: Duration) -> bool {
            let deadline = Instant::now() + within;
            loop {
                match killpg(Pid::from_raw(self.0), Signal::SIGKILL) {
                    Err(Errno::ESRCH) => return true,
                    #[cfg(target_os = "linux")]
                    _ if crate::runtime::procfs::live_members(self.0).is_empty() => return true,
                    _ if Instant::now() >= deadline => return false,
                    _ => tokio::time::sleep(Duration::from_millis(2)).await,
                }
            }
        }
    }
}

#[cfg(windows)]
mod windows {
    use std::time::Duration;

    use tokio::process::Child;
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, NTSTATUS};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
        SetInformationJobObject, TerminateJobObject,
    };

    use crate::definitions::StopSignal;

    // A service is created suspended and must be resumed once it is in its job. Neither
    // std nor tokio hands out the handle of a child's main thread (which `ResumeThread`
    // would need), but `NtResumeProcess` resumes every thread of a process from the
    // process handle the child does give: one call, on a process that has exactly one
    // thread, the one we created suspended. It is an ntdll export that has been stable
    // since Windows XP; it is declared here the way windows-sys declares its own imports
    // (windows-link's `link!`: raw-dylib, so no import library is needed). The
    // documented alternative, walking every thread of the system with Toolhelp32 to find
    // ours and resume it, is more code for the same effect.
    windows_link::link!("ntdll.dll" "system" fn NtResumeProcess(process: HANDLE) -> NTSTATUS);

    /// A Job Object holding a service's processes; they die when it closes.
    #[derive(Debug)]
    pub struct ProcessGroup {
        job: HANDLE,
        pid: u32,
    }

    // SAFETY: a job handle may be used and closed from any thread.
    unsafe impl Send for ProcessGroup {}
    unsafe impl Sync for ProcessGroup {}

    impl ProcessGroup {
        /// Puts the (suspended) child in a new kill-on-close job, then lets it run.
        pub fn of(child: &Child) -> std::io::Result<Option<ProcessGroup>> {
            let (Some(process), Some(pid)) = (child.raw_handle(), child.id()) else {
                // It was waited for already, which cannot happen to a suspended process.
                return Err(std::io::Error::other("the new process has no handle"));
            };
            // SAFETY: plain Win32 calls on handles we own; the structure is zero-initialised
            // as the API allows, and its size is passed. `process` stays valid while
            // `child` is borrowed.
            unsafe {
                let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
                if job.is_null() {
                    return Err(std::io::Error::last_os_error());
                }
                let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
                limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
                let size = std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32;
                let configured = SetInformationJobObject(
                    job,
                    JobObjectExtendedLimitInformation,
                    (&limits as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
                    size,
                );
                if configured == 0 || AssignProcessToJobObject(job, process as HANDLE) == 0 {
                    let error = std::io::Error::last_os_error();
                    CloseHandle(job);
                    return Err(error);
                }
                let status = NtResumeProcess(process as HANDLE);
                if status < 0 {
                    // Closing the job kills what is in it: the process that never ran.
                    CloseHandle(job);
                    return Err(std::io::Error::other(format!(
                        "the new process could not be resumed (NTSTATUS {status:#010x})"
                    )));
                }
                Ok(Some(ProcessGroup { job, pid }))
            }
        }

        pub fn id(&self) -> i32 {
            self.pid as i32
        }

        /// Windows has no polite stop signal for arbitrary programs: the job is ended.
        pub fn signal(&self, _signal: StopSignal) {
            self.kill();
        }

        /// Nothing to continue: the job was ended.
        pub fn resume(&self) {}

        pub fn kill(&self) {
            // SAFETY: the handle is ours and open until drop.
            unsafe {
                TerminateJobObject(self.job, 1);
            }
        }

        pub async fn kill_and_confirm_empty(&self, _within: Duration) -> bool {
            self.kill();
            true
        }
    }

    impl Drop for ProcessGroup {
        fn drop(&mut self) {
            // SAFETY: closing our own handle once.
            unsafe {
                CloseHandle(self.job);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_programs_with_a_directory_are_found_in_the_cwd() {
        let cwd = Path::new("/opt/clara");
        assert_eq!(
            resolve_program("./bin/llama-swap", Some(cwd)),
            PathBuf::from("/opt/clara/./bin/llama-swap")
        );
        assert_eq!(
            resolve_program("python3", Some(cwd)),
            PathBuf::from("python3")
        );
        assert_eq!(
            resolve_program("/usr/bin/env", Some(cwd)),
            PathBuf::from("/usr/bin/env")
        );
        assert_eq!(resolve_program("./x", None), PathBuf::from("./x"));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn an_instance_whose_manager_is_gone_stops_as_its_definition_says() {
        use crate::definitions::Variables;
        use crate::diagnostics::SourceFile;
        use crate::output::{LogBuffer, OutputSink};
        use crate::platform::Platform;

        let source = SourceFile::new(
            "test.toml",
            r#"
[services.s]
command = ["sh", "-c", "trap 'exit 7' TERM; echo ready; while true; do sleep 0.1; done"]
stop_timeout = "1h"
"#,
        );
        let checked = definitions::check(&source, Platform::current(), &Variables::new([], "/tmp"));
        let service = checked
            .definitions
            .and_then(|mut definitions| definitions.services.remove("s"))
            .expect("the definition is valid");
        let (runtime, all_ended) = ProcessRuntime::new(
            Guard::none(),
            Arc::new(RunMark::new(&mark::new_state_token())),
        );
        let (ready, trap_set) = oneshot::channel();
        let instance = runtime
            .start(StartRequest {
                service: Arc::new(service),
                output: OutputSink {
                    buffer: Arc::new(LogBuffer::new(10)),
                    file: None,
                    ready_when: Some((regex::Regex::new("^ready$").expect("a pattern"), ready)),
                    log_writing: None,
                },
                progress: mpsc::unbounded_channel().0,
            })
            .await
            .expect("starts");
        drop(runtime);
        trap_set.await.expect("its trap is set");
        let Instance { stop, exited, .. } = instance;
        // The manager is gone without asking: its end of the stop handle is dropped.
        drop(stop);
        let report = tokio::time::timeout(Duration::from_secs(30), exited)
            .await
            .expect("stops long before its hour of stop timeout")
            .expect("reports");
        assert_eq!(report.exit, ExitInfo::code(7), "by its own stop signal");
        tokio::time::timeout(Duration::from_secs(30), all_ended.wait())
            .await
            .expect("and the runtime knows all its instances ended");
    }

    #[test]
    fn spawn_errors_are_sentences() {
        let error = describe_spawn_error(
            Path::new("/opt/clara/llama-swap"),
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(
            error.message,
            "cannot start: the program /opt/clara/llama-swap was not found"
        );
    }
}
