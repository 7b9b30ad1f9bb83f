//! A small mock of the Lambda Runtime API (`/2018-06-01/runtime/...`) on a loopback port: it notes
//! when the function first asks for an invocation, hands it one event, takes its response or error,
//! and notes the second `next` (the invocation is over).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What the function did, in order, with when it happened.
#[derive(Debug)]
pub enum Call {
    /// `GET .../invocation/next` (the n-th one, from 1).
    Next { n: u32, at: Instant },
    /// `POST .../invocation/{id}/response` or `/error`, with the body.
    Outcome { error: bool, body: String },
}

pub struct MockRuntimeApi {
    pub address: String,
    pub calls: Receiver<Call>,
}

impl MockRuntimeApi {
    /// Serves on 127.0.0.1 (a free port); the first `next` gets `event`, later ones hang until the
    /// function is killed (as Lambda's do while it is frozen).
    pub fn start(event: String) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?.to_string();
        let (tx, calls) = channel();
        std::thread::spawn(move || {
            let nexts = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
            for stream in listener.incoming().flatten() {
                let (tx, event, nexts) = (tx.clone(), event.clone(), nexts.clone());
                std::thread::spawn(move || serve(stream, &tx, &event, &nexts));
            }
        });
        Ok(Self { address, calls })
    }
}

fn serve(stream: TcpStream, tx: &Sender<Call>, event: &str, nexts: &std::sync::atomic::AtomicU32) {
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    // Keep-alive: one connection carries several requests.
    while let Some((method, path, body)) = read_request(&mut reader) {
        let at = Instant::now();
        let reply = if method == "GET" && path.ends_with("/invocation/next") {
            let n = nexts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let _ = tx.send(Call::Next { n, at });
            if n > 1 {
                continue; // never answered: the invocation is over and the process is killed next
            }
            invocation(event)
        } else if method == "POST" && (path.ends_with("/response") || path.ends_with("/error")) {
            let _ = tx.send(Call::Outcome {
                error: path.ends_with("/error"),
                body,
            });
            http(202, "", r#"{"status":"OK"}"#)
        } else {
            http(404, "", "{}")
        };
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn invocation(event: &str) -> String {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let headers = format!(
        "Lambda-Runtime-Aws-Request-Id: bench-1\r\nLambda-Runtime-Deadline-Ms: {}\r\n\
         Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n\
         Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n",
        now_ms + 60_000
    );
    http(200, &headers, event)
}

fn http(status: u16, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// One request: method, path and body (by `Content-Length`); `None` once the peer closes.
fn read_request(reader: &mut impl BufRead) -> Option<(String, String, String)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, String::from_utf8_lossy(&body).into_owned()))
}
