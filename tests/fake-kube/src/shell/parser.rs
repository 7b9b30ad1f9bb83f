//! Turns tokens into a [`Script`]: commands separated by `;`/newlines, and `while true; do ...; done`.

use std::time::Duration;

use crate::shell::Unsupported;
use crate::shell::lexer::{Token, Word, tokenize};

/// What one command does.
#[derive(Clone, Debug, PartialEq)]
pub enum Program {
    Echo(Vec<Word>),
    Tail { lines: usize, path: Word },
    Cat(Vec<Word>),
    Ls(Word),
    Find(Word),
    Sleep(Duration),
    True,
}

/// Where a command's output goes, besides the container log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Redirects {
    /// `> path` (append = false) or `>> path`.
    pub stdout: Option<(Word, bool)>,
    /// `2>/dev/null`.
    pub discard_stderr: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    pub program: Program,
    pub redirects: Redirects,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Run(Command),
    /// `while true; do ...; done`: runs until the pod is deleted.
    Forever(Vec<Command>),
}

/// A parsed container command.
#[derive(Clone, Debug, PartialEq)]
pub struct Script(pub Vec<Statement>);

/// Parses a `sh -c` script.
pub fn parse_script(script: &str) -> Result<Script, Unsupported> {
    Parser {
        tokens: tokenize(script)?,
        at: 0,
    }
    .script()
}

/// An exec-form command (`["sleep", "3600"]`): the words are taken literally, no shell involved.
pub fn parse_exec(argv: &[String]) -> Result<Script, Unsupported> {
    let words = argv.iter().map(|arg| Word::literal(arg)).collect();
    Ok(Script(vec![Statement::Run(command(words, Redirects::default())?)]))
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn script(mut self) -> Result<Script, Unsupported> {
        let mut statements = Vec::new();
        loop {
            self.skip_separators();
            match self.tokens.get(self.at) {
                None => return Ok(Script(statements)),
                Some(token) if keyword(token) == Some("while") => statements.push(self.while_loop()?),
                Some(_) => statements.push(Statement::Run(self.command()?)),
            }
        }
    }

    /// `while true; do <commands>; done`.
    fn while_loop(&mut self) -> Result<Statement, Unsupported> {
        self.at += 1;
        let condition = self.command()?;
        if condition.program != Program::True || condition.redirects != Redirects::default() {
            return Err(Unsupported(
                "unsupported shell syntax: a while loop whose condition is not `true` or `:`".into(),
            ));
        }
        self.skip_separators();
        if self.tokens.get(self.at).and_then(keyword) != Some("do") {
            return Err(Unsupported("unsupported shell syntax: `while` without `do`".into()));
        }
        self.at += 1;
        let mut body = Vec::new();
        loop {
            self.skip_separators();
            match self.tokens.get(self.at).map(|t| (t, keyword(t))) {
                None => return Err(Unsupported("unsupported shell syntax: `while` without `done`".into())),
                Some((_, Some("done"))) => {
                    self.at += 1;
                    break;
                }
                Some((_, Some("while"))) => {
                    return Err(Unsupported("unsupported shell syntax: nested while loops".into()));
                }
                Some(_) => body.push(self.command()?),
            }
        }
        if body.is_empty() {
            return Err(Unsupported(
                "unsupported shell syntax: a while loop without commands".into(),
            ));
        }
        match self.tokens.get(self.at) {
            None | Some(Token::Separator) => Ok(Statement::Forever(body)),
            Some(_) => Err(Unsupported("unsupported shell syntax: something after `done`".into())),
        }
    }

    /// Words and redirections up to the next separator.
    fn command(&mut self) -> Result<Command, Unsupported> {
        let mut words = Vec::new();
        let mut redirects = Redirects::default();
        while let Some(token) = self.tokens.get(self.at).cloned() {
            if words.is_empty()
                && let Some(reserved) = keyword(&token)
            {
                return Err(Unsupported(format!("unsupported shell syntax: `{reserved}`")));
            }
            match token {
                Token::Separator => break,
                Token::Word(word) => {
                    words.push(word);
                    self.at += 1;
                }
                Token::Redirect { fd, append } => {
                    self.at += 1;
                    let Some(Token::Word(target)) = self.tokens.get(self.at).cloned() else {
                        return Err(Unsupported(
                            "unsupported shell syntax: a redirection without a file".into(),
                        ));
                    };
                    self.at += 1;
                    match fd {
                        1 => redirects.stdout = Some((target, append)),
                        2 if target.plain().as_deref() == Some("/dev/null") => redirects.discard_stderr = true,
                        _ => {
                            return Err(Unsupported(format!(
                                "unsupported redirection {fd}>: only >, >> and 2>/dev/null are emulated"
                            )));
                        }
                    }
                }
            }
        }
        command(words, redirects)
    }

    fn skip_separators(&mut self) {
        while self.tokens.get(self.at) == Some(&Token::Separator) {
            self.at += 1;
        }
    }
}

/// The text of an unquoted word that could be a keyword.
fn keyword(token: &Token) -> Option<&'static str> {
    const KEYWORDS: [&str; 14] = [
        "while", "if", "then", "else", "elif", "fi", "for", "case", "esac", "until", "do", "done", "{", "}",
    ];
    match token {
        Token::Word(word) if !word.quoted => {
            let text = word.plain()?;
            KEYWORDS.into_iter().find(|k| *k == text)
        }
        _ => None,
    }
}

/// Recognises the builtins the fake emulates, with the busybox options it understands.
fn command(words: Vec<Word>, redirects: Redirects) -> Result<Command, Unsupported> {
    let Some((name, args)) = words.split_first() else {
        return Err(Unsupported("unsupported shell syntax: an empty command".into()));
    };
    let name = name
        .plain()
        .ok_or_else(|| Unsupported("unsupported command: a command name from a substitution".into()))?;
    let plain_args: Vec<Option<String>> = args.iter().map(Word::plain).collect();
    let refuse = |why: &str| Unsupported(format!("unsupported command `{name}`: {why}"));
    let has_option = plain_args.iter().flatten().any(|a| a.starts_with('-') && a.len() > 1);
    let program = match name.as_str() {
        "echo" => {
            if plain_args
                .first()
                .and_then(|a| a.as_deref())
                .is_some_and(|a| a.starts_with('-'))
            {
                return Err(refuse("echo options are not emulated"));
            }
            Program::Echo(args.to_vec())
        }
        "true" | ":" => Program::True,
        "tail" => tail(&plain_args, args).ok_or_else(|| refuse("only `tail -n N FILE` is emulated"))?,
        "cat" if !args.is_empty() && !has_option => Program::Cat(args.to_vec()),
        "ls" if args.len() == 1 && !has_option => Program::Ls(args[0].clone()),
        "find" if args.len() == 1 && !has_option => Program::Find(args[0].clone()),
        "sleep" => {
            Program::Sleep(sleep_duration(&plain_args).ok_or_else(|| refuse("only `sleep SECONDS` is emulated"))?)
        }
        "cat" => return Err(refuse("only `cat FILE...` is emulated")),
        "ls" => return Err(refuse("only `ls DIR` is emulated")),
        "find" => return Err(refuse("only `find DIR` is emulated")),
        _ => {
            return Err(Unsupported(format!(
                "unsupported command `{name}` (emulated: echo, tail -n, cat, ls, find, sleep, true)"
            )));
        }
    };
    Ok(Command { program, redirects })
}

/// `tail -n N FILE`, `tail -nN FILE`, `tail -N FILE` or `tail FILE` (10 lines).
fn tail(plain: &[Option<String>], args: &[Word]) -> Option<Program> {
    let (lines, path) = match plain {
        [path] if !path.as_deref().is_some_and(|p| p.starts_with('-')) => (10, &args[0]),
        [Some(flag), Some(n), _] if flag == "-n" => (n.parse().ok()?, &args[2]),
        [Some(flag), _] if flag.starts_with('-') => {
            let n = flag.strip_prefix("-n").unwrap_or(&flag[1..]);
            (n.parse().ok()?, &args[1])
        }
        _ => return None,
    };
    Some(Program::Tail {
        lines,
        path: path.clone(),
    })
}

/// `sleep 5`, `sleep 0.5`, `sleep 2m` (s, m, h, d suffixes).
fn sleep_duration(plain: &[Option<String>]) -> Option<Duration> {
    let [Some(arg)] = plain else { return None };
    let (number, unit) = match arg.char_indices().last()? {
        (i, 's') => (&arg[..i], 1.0),
        (i, 'm') => (&arg[..i], 60.0),
        (i, 'h') => (&arg[..i], 3600.0),
        (i, 'd') => (&arg[..i], 86400.0),
        _ => (arg.as_str(), 1.0),
    };
    let seconds: f64 = number.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds * unit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::lexer::Part;

    #[test]
    fn parses_the_poc_loop() {
        let script = parse_script(
            r#"while true; do echo "$(date -u) - PoC APP 1" >> /data/out1.txt; tail -n 1 /data/out2.txt 2>/dev/null; sleep 5; done"#,
        )
        .unwrap();
        let [Statement::Forever(body)] = script.0.as_slice() else {
            panic!("{script:?}")
        };
        assert_eq!(body.len(), 3);
        let Program::Echo(words) = &body[0].program else {
            panic!()
        };
        assert_eq!(words[0].parts, [Part::Date, Part::Text(" - PoC APP 1".into())]);
        let (target, append) = body[0].redirects.stdout.clone().unwrap();
        assert_eq!((target.plain().unwrap().as_str(), append), ("/data/out1.txt", true));
        assert!(body[1].redirects.discard_stderr);
        assert_eq!(body[2].program, Program::Sleep(Duration::from_secs(5)));
    }

    #[test]
    fn parses_sequences_and_exec_form() {
        let script = parse_script("echo hi; find /data\nls /data").unwrap();
        assert_eq!(script.0.len(), 3);
        let exec = parse_exec(&["sleep".into(), "3600".into()]).unwrap();
        assert_eq!(
            exec.0,
            [Statement::Run(Command {
                program: Program::Sleep(Duration::from_secs(3600)),
                redirects: Redirects::default()
            })]
        );
        assert!(matches!(
            parse_script("tail -3 /f").unwrap().0[0],
            Statement::Run(Command {
                program: Program::Tail { lines: 3, .. },
                ..
            })
        ));
    }

    #[test]
    fn refuses_other_commands_and_syntax() {
        for script in [
            "mkdir /data/x",
            "tail -f /x",
            "ls -l /data",
            "while false; do true; done",
            "while true; do echo x",
            "while true; do while true; do true; done; done",
            "while true; do done",
            "if true; then echo; fi",
            "echo x 3> /f",
            "echo -n x",
        ] {
            let err = parse_script(script).unwrap_err();
            assert!(err.0.starts_with("unsupported"), "{script}: {}", err.0);
        }
    }
}
