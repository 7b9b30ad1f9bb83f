//! A tiny `sh` for the fake's containers: `while true; do ...; done`, `;` sequences, and the
//! busybox commands the PoC workloads use (`echo` with `$(date -u)`, `>`/`>>`, `tail -n`, `cat`,
//! `ls`, `find`, `sleep`, `true`, `2>/dev/null`). Anything else is refused before the container
//! runs anything.

pub mod exec;
pub mod lexer;
pub mod parser;

use parser::{Script, parse_exec, parse_script};

/// Why a container command can't be emulated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unsupported(pub String);

/// What a container runs.
#[derive(Clone, Debug, PartialEq)]
pub enum ContainerCommand {
    /// No `command`/`args`: the image's own entrypoint, which the fake models as a process that
    /// runs until the pod is deleted.
    ImageDefault,
    Script(Script),
}

/// Parses a container's `command` + `args`: `sh -c SCRIPT` (also `/bin/sh`, `bash`, `ash`) or an
/// exec-form command such as `["sleep", "3600"]`.
pub fn parse_container_command(command: &[String], args: &[String]) -> Result<ContainerCommand, Unsupported> {
    let argv: Vec<String> = command.iter().chain(args).cloned().collect();
    let Some(program) = argv.first() else {
        return Ok(ContainerCommand::ImageDefault);
    };
    let shell = matches!(program.rsplit('/').next(), Some("sh" | "bash" | "ash"));
    if !shell {
        return parse_exec(&argv).map(ContainerCommand::Script);
    }
    match argv.get(1..3) {
        Some([flag, script]) if flag == "-c" => parse_script(script).map(ContainerCommand::Script),
        _ => Err(Unsupported(format!(
            "unsupported command: {program} without `-c SCRIPT`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recognises_shell_and_exec_forms() {
        assert_eq!(
            parse_container_command(&[], &[]).unwrap(),
            ContainerCommand::ImageDefault
        );
        let shell = parse_container_command(&strings(&["/bin/sh"]), &strings(&["-c", "echo hi"])).unwrap();
        assert!(matches!(shell, ContainerCommand::Script(script) if script.0.len() == 1));
        assert!(parse_container_command(&strings(&["sleep", "10"]), &[]).is_ok());
        assert!(parse_container_command(&strings(&["sh"]), &[]).is_err());
        assert!(parse_container_command(&strings(&["nginx"]), &[]).is_err());
    }
}
