//! Runs a [`Script`] against a container's file systems, with busybox's output formats.

use crate::clock::SimClock;
use crate::logs::LogSink;
use crate::shell::parser::{Command, Program, Script, Statement};
use crate::volumes::{Entry, Identity, SharedTree, normalize};

/// A volume as a container sees it: `tree` at `root` appears at `path`, and file operations on it
/// run as `who` (the access point's user, or the container's, root squashed as the server does).
#[derive(Clone, Debug)]
pub struct Mount {
    pub path: String,
    pub tree: SharedTree,
    pub root: String,
    pub who: Identity,
}

/// A container's view of files: its mounts, and its own tree for every other path.
#[derive(Debug)]
pub struct ContainerFs {
    mounts: Vec<Mount>,
    local: SharedTree,
}

impl ContainerFs {
    pub fn new(mounts: Vec<Mount>) -> Self {
        let local = SharedTree::default();
        for mount in &mounts {
            local.lock().make_dir(&mount.path);
            mount.tree.lock().make_dir(&mount.root);
        }
        Self { mounts, local }
    }

    /// The tree holding `path`, the path inside it, and who operates on it there.
    fn resolve(&self, path: &str) -> (&SharedTree, String, Identity) {
        let path = normalize(path);
        let mount = self
            .mounts
            .iter()
            .filter(|m| path == m.path || path.starts_with(&format!("{}/", m.path.trim_end_matches('/'))))
            .max_by_key(|m| m.path.len());
        match mount {
            Some(mount) => {
                let rest = &path[mount.path.len()..];
                (&mount.tree, normalize(&format!("{}/{rest}", mount.root)), mount.who)
            }
            None => (&self.local, path, Identity::ROOT),
        }
    }
}

/// What a command printed and its exit status.
#[derive(Debug, Default)]
struct Outcome {
    stdout: String,
    stderr: String,
    status: i32,
}

impl Outcome {
    fn failure(stderr: String) -> Self {
        Self {
            stdout: String::new(),
            stderr,
            status: 1,
        }
    }
}

/// One container's shell.
pub struct Shell<'a> {
    pub clock: &'a SimClock,
    pub fs: &'a ContainerFs,
    pub log: &'a LogSink,
}

impl Shell<'_> {
    /// Runs the script; returns the exit status of the last command (a loop never returns).
    pub async fn run(&self, script: &Script) -> i32 {
        let mut status = 0;
        for statement in &script.0 {
            match statement {
                Statement::Run(command) => status = self.execute(command).await,
                Statement::Forever(body) => loop {
                    for command in body {
                        self.execute(command).await;
                    }
                    tokio::task::yield_now().await;
                },
            }
        }
        status
    }

    async fn execute(&self, command: &Command) -> i32 {
        let date = || self.clock.date_u();
        let mut stdout_file = None;
        if let Some((target, append)) = &command.redirects.stdout {
            let path = target.expand(date);
            if path != "/dev/null" {
                let (tree, inner, who) = self.fs.resolve(&path);
                if tree.lock().entry(&inner) == Some(Entry::Dir) {
                    self.log.write(&format!("sh: can't create {path}: Is a directory\n"));
                    return 1;
                }
                if !tree.lock().may_write(&inner, who) {
                    self.log.write(&format!("sh: can't create {path}: Permission denied\n"));
                    return 1;
                }
                if !append {
                    tree.lock().write(&inner, "", false);
                    tree.lock().claim(&inner, who);
                }
                stdout_file = Some((tree, inner, who));
            }
        }
        let outcome = self.program(&command.program).await;
        match (&command.redirects.stdout, stdout_file) {
            (Some(_), Some((tree, inner, who))) => {
                let mut tree = tree.lock();
                tree.write(&inner, &outcome.stdout, true);
                tree.claim(&inner, who);
            }
            (Some(_), None) => {} // > /dev/null
            (None, _) => self.log.write(&outcome.stdout),
        }
        if !command.redirects.discard_stderr {
            self.log.write(&outcome.stderr);
        }
        outcome.status
    }

    async fn program(&self, program: &Program) -> Outcome {
        let date = || self.clock.date_u();
        match program {
            Program::Echo(words) => {
                let words: Vec<String> = words.iter().map(|w| w.expand(date)).collect();
                Outcome {
                    stdout: format!("{}\n", words.join(" ")),
                    ..Outcome::default()
                }
            }
            Program::Tail { lines, path } => self.tail(*lines, &path.expand(date)),
            Program::Cat(paths) => {
                let mut outcome = Outcome::default();
                for path in paths.iter().map(|p| p.expand(date)) {
                    let (tree, inner, who) = self.fs.resolve(&path);
                    let tree = tree.lock();
                    match (tree.entry(&inner), tree.read(&inner)) {
                        (Some(_), _) if !tree.may_read(&inner, who) => {
                            outcome.stderr.push_str(&denied("cat", &path));
                            outcome.status = 1;
                        }
                        (_, Some(content)) => outcome.stdout.push_str(content),
                        (Some(Entry::Dir), _) => {
                            outcome.stderr.push_str("cat: read error: Is a directory\n");
                            outcome.status = 1;
                        }
                        _ => {
                            outcome.stderr.push_str(&no_such_file("cat", &path));
                            outcome.status = 1;
                        }
                    }
                }
                outcome
            }
            Program::Ls(path) => self.ls(&path.expand(date)),
            Program::Find(path) => self.find(&path.expand(date)),
            Program::Sleep(duration) => {
                self.clock.sleep(*duration).await;
                Outcome::default()
            }
            Program::True => Outcome::default(),
        }
    }

    fn tail(&self, lines: usize, path: &str) -> Outcome {
        let (tree, inner, who) = self.fs.resolve(path);
        let tree = tree.lock();
        match (tree.entry(&inner), tree.read(&inner)) {
            (Some(_), _) if !tree.may_read(&inner, who) => Outcome::failure(denied("tail", path)),
            (_, Some(content)) => {
                let all: Vec<&str> = content.split_inclusive('\n').collect();
                Outcome {
                    stdout: all[all.len().saturating_sub(lines)..].concat(),
                    ..Outcome::default()
                }
            }
            (Some(Entry::Dir), _) => Outcome::failure("tail: read error: Is a directory\n".into()),
            _ => Outcome::failure(no_such_file("tail", path)),
        }
    }

    /// busybox `ls DIR` without a terminal: one name per line, sorted.
    fn ls(&self, path: &str) -> Outcome {
        let (tree, inner, who) = self.fs.resolve(path);
        let tree = tree.lock();
        match tree.entry(&inner) {
            Some(Entry::Dir) if !tree.may_list(&inner, who) => {
                Outcome::failure(format!("ls: can't open '{path}': Permission denied\n"))
            }
            Some(Entry::Dir) => Outcome {
                stdout: tree.children(&inner).iter().map(|name| format!("{name}\n")).collect(),
                ..Outcome::default()
            },
            Some(Entry::File) => Outcome {
                stdout: format!("{path}\n"),
                ..Outcome::default()
            },
            None => Outcome::failure(format!("ls: {path}: No such file or directory\n")),
        }
    }

    /// busybox `find DIR`: the directory itself, then every path below it.
    fn find(&self, path: &str) -> Outcome {
        let (tree, inner, who) = self.fs.resolve(path);
        let tree = tree.lock();
        match tree.entry(&inner) {
            Some(Entry::Dir) if !tree.may_list(&inner, who) => {
                Outcome::failure(format!("find: {path}: Permission denied\n"))
            }
            Some(Entry::Dir) => {
                let base = path.trim_end_matches('/');
                let mut stdout = format!("{path}\n");
                for descendant in tree.descendants(&inner) {
                    stdout.push_str(&format!("{base}/{descendant}\n"));
                }
                Outcome {
                    stdout,
                    ..Outcome::default()
                }
            }
            Some(Entry::File) => Outcome {
                stdout: format!("{path}\n"),
                ..Outcome::default()
            },
            None => Outcome::failure(format!("find: {path}: No such file or directory\n")),
        }
    }
}

fn denied(tool: &str, path: &str) -> String {
    format!("{tool}: can't open '{path}': Permission denied\n")
}

fn no_such_file(tool: &str, path: &str) -> String {
    format!("{tool}: can't open '{path}': No such file or directory\n")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::logs::Logs;
    use crate::shell::parser::parse_script;

    struct Fixture {
        clock: SimClock,
        data: SharedTree,
        fs: ContainerFs,
        logs: Arc<Logs>,
        sink: LogSink,
    }

    fn fixture() -> Fixture {
        let data = SharedTree::default();
        let fs = ContainerFs::new(vec![Mount {
            path: "/data".into(),
            tree: data.clone(),
            root: "/".into(),
            who: Identity::ROOT,
        }]);
        let logs = Arc::new(Logs::default());
        let sink = logs.start("uid", "app");
        Fixture {
            clock: SimClock::new(0.001),
            data,
            fs,
            logs,
            sink,
        }
    }

    async fn run(f: &Fixture, script: &str) -> i32 {
        let shell = Shell {
            clock: &f.clock,
            fs: &f.fs,
            log: &f.sink,
        };
        shell.run(&parse_script(script).unwrap()).await
    }

    fn log(f: &Fixture) -> String {
        f.logs.read("uid", "app", None).unwrap()
    }

    #[tokio::test]
    async fn writes_reach_the_mounted_tree() {
        let f = fixture();
        let status = run(
            &f,
            "echo \"$(date -u) - hi\" >> /data/out.txt; echo two >> /data/out.txt; tail -n 1 /data/out.txt",
        )
        .await;
        assert_eq!(status, 0);
        let content = f.data.lock().read("/out.txt").unwrap().to_string();
        assert!(
            content.contains(" UTC ") && content.ends_with(" - hi\ntwo\n"),
            "{content}"
        );
        assert_eq!(log(&f), "two\n");
        run(&f, "echo new > /data/out.txt").await;
        assert_eq!(f.data.lock().read("/out.txt"), Some("new\n"));
    }

    #[tokio::test]
    async fn missing_files_fail_and_2_devnull_hides_the_message() {
        let f = fixture();
        assert_eq!(run(&f, "tail -n 1 /data/none 2>/dev/null").await, 1);
        assert_eq!(log(&f), "");
        assert_eq!(run(&f, "cat /data/none").await, 1);
        assert_eq!(log(&f), "cat: can't open '/data/none': No such file or directory\n");
        assert_eq!(
            run(&f, "cat /data/none; true").await,
            0,
            "a sequence exits with its last command's status"
        );
    }

    #[tokio::test]
    async fn find_and_ls_print_like_busybox() {
        let f = fixture();
        run(&f, "echo 1 > /data/out2.txt; echo 2 > /data/out1.txt").await;
        run(&f, "find /data; ls /data; ls /").await;
        assert_eq!(
            log(&f),
            "/data\n/data/out1.txt\n/data/out2.txt\nout1.txt\nout2.txt\ndata\n"
        );
        assert_eq!(run(&f, "ls /nope").await, 1);
        assert_eq!(run(&f, "echo x > /data").await, 1);
    }

    #[tokio::test]
    async fn paths_outside_mounts_stay_in_the_container() {
        let f = fixture();
        run(&f, "echo local > /tmp/x; cat /tmp/x").await;
        assert_eq!(log(&f), "local\n");
        assert!(f.data.lock().files().is_empty());
    }
}
