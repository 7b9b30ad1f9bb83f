//! The process-wide moto server: started lazily on first use, on a free 127.0.0.1 port, under a tiny
//! Python supervisor that terminates moto when its stdin reaches EOF. The supervisor's stdin pipe is
//! kept in a `static`, so when the test process exits (normally, by panic or by a signal) the OS
//! closes the pipe and moto goes away with it.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::http;

/// How long moto gets to answer `GET /moto-api/` after the spawn.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `argv[1:]` (moto_server and its arguments) and waits. When stdin reaches EOF (the test
/// process is gone) or on SIGTERM/SIGINT, it terminates moto (SIGKILL after 5 s). When moto exits
/// on its own, the supervisor exits with moto's code, which the harness notices while waiting.
const SUPERVISOR: &str = r#"
import os, signal, subprocess, sys, threading
moto = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
def stop(*_):
    moto.terminate()
    killer = threading.Timer(5, moto.kill)
    killer.daemon = True
    killer.start()
def watch_stdin():
    while os.read(0, 4096):
        pass
    stop()
threading.Thread(target=watch_stdin, daemon=True).start()
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
code = moto.wait()
sys.stdout.flush()
os._exit(code if code >= 0 else 128 - code)
"#;

/// A running moto server, owned by this process.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    pub log_path: PathBuf,
    pub startup: Duration,
    /// Never written: its only job is to be closed by the OS when the process exits.
    _stdin: ChildStdin,
    _supervisor: Child,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

impl Server {
    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The process-wide server, started on the first call (blocking, at most [`START_TIMEOUT`]).
/// Panics with instructions when moto can't be started; later calls panic with the same message
/// instead of trying again.
pub fn server() -> &'static Server {
    match SERVER.get_or_init(|| spawn(&[])) {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    }
}

/// `<repo>`: the parent of this crate's manifest directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent directory")
        .to_path_buf()
}

/// `$MOTO_SERVER`, or `<repo>/.venv/bin/moto_server`.
pub fn moto_server_path() -> PathBuf {
    match std::env::var_os("MOTO_SERVER") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => repo_root().join(".venv/bin/moto_server"),
    }
}

/// The venv's `python3` next to `moto_server` (the supervisor needs no packages), else `python3`.
fn python_for(moto_server: &Path) -> PathBuf {
    moto_server
        .parent()
        .map(|bin| bin.join("python3"))
        .filter(|python| python.exists())
        .unwrap_or_else(|| PathBuf::from("python3"))
}

fn hint() -> String {
    format!(
        "run `{}/scripts/venv.sh` to install moto into <repo>/.venv, or set MOTO_SERVER to a moto_server executable",
        repo_root().display()
    )
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

/// Log files are `<temp>/efs-fargate-workflow-moto-<pid>-<serial>.log`, one per server.
const LOG_PREFIX: &str = "efs-fargate-workflow-moto-";

/// Removes the logs of test processes that no longer run (Linux: no `/proc/<pid>`), so the temp dir
/// does not fill up with one log per `cargo test`.
fn remove_stale_logs() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix(LOG_PREFIX))
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| n.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Starts a moto server of its own (the process-wide one is [`server`]) with extra environment, e.g.
/// `MOTO_PORT` for the local stack, whose Step Functions engine must call the local gateway. It
/// stops when the returned [`Server`] is dropped or this process exits.
pub fn spawn(env: &[(&str, String)]) -> Result<Server, String> {
    let moto_server = moto_server_path();
    if !moto_server.is_file() {
        return Err(format!(
            "moto server not found at {}: {}",
            moto_server.display(),
            hint()
        ));
    }
    let began = Instant::now();
    let port = free_port().map_err(|e| format!("no free 127.0.0.1 port: {e}"))?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    remove_stale_logs();
    static SERVERS_STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let serial = SERVERS_STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log_path = std::env::temp_dir().join(format!("{LOG_PREFIX}{}-{serial}.log", std::process::id()));
    let log = File::create(&log_path).map_err(|e| format!("can't create moto log {}: {e}", log_path.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("can't clone moto log handle: {e}"))?;
    let python = python_for(&moto_server);
    let mut supervisor = Command::new(&python)
        .arg("-u")
        .arg("-c")
        .arg(SUPERVISOR)
        .arg(&moto_server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("can't start {} (moto supervisor): {e}; {}", python.display(), hint()))?;
    let stdin = supervisor.stdin.take().expect("stdin is piped");

    let failure = |why: String| {
        format!(
            "moto server {} on {addr} {why}; log {}:\n{}\n{}",
            moto_server.display(),
            log_path.display(),
            log_tail(&log_path),
            hint()
        )
    };
    loop {
        if let Ok(Some(status)) = supervisor.try_wait() {
            return Err(failure(format!("exited during startup ({status})")));
        }
        let probe = http::request(addr, "GET", "/moto-api/", "", Duration::from_secs(2));
        if matches!(probe, Ok(ref response) if response.status == 200) {
            break;
        }
        if began.elapsed() > START_TIMEOUT {
            drop(stdin); // the supervisor terminates moto on EOF
            return Err(failure(format!(
                "did not answer GET /moto-api/ within {START_TIMEOUT:?} (last probe: {probe:?})"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Server {
        addr,
        log_path,
        startup: began.elapsed(),
        _stdin: stdin,
        _supervisor: supervisor,
    })
}
