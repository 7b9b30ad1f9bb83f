//! Splits a `sh -c` script into words, separators and redirections. Everything the fake cannot
//! run (pipes, `&&`, variables, globs, other command substitutions, ...) is refused here.

use crate::shell::Unsupported;

/// A piece of a word: literal text or `$(date -u)`, expanded when the command runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Date,
}

/// A shell word after quote removal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Word {
    pub parts: Vec<Part>,
    /// Whether any of it was quoted or escaped: quoted words are never keywords.
    pub quoted: bool,
}

impl Word {
    pub fn literal(text: &str) -> Self {
        Self {
            parts: vec![Part::Text(text.to_string())],
            quoted: true,
        }
    }

    /// The text of an unquoted word without substitutions (`while`, `-n`, `/dev/null`, ...).
    pub fn plain(&self) -> Option<String> {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => text.push_str(t),
                Part::Date => return None,
            }
        }
        Some(text)
    }

    /// The text, with `$(date -u)` rendered by `date`.
    pub fn expand(&self, date: impl Fn() -> String) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(t) => t.clone(),
                Part::Date => date(),
            })
            .collect()
    }

    fn push_char(&mut self, c: char) {
        match self.parts.last_mut() {
            Some(Part::Text(text)) => text.push(c),
            _ => self.parts.push(Part::Text(c.to_string())),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Word(Word),
    /// `;` or a newline.
    Separator,
    /// `>`/`>>` with an optional file descriptor number before it (`2>`).
    Redirect {
        fd: u32,
        append: bool,
    },
}

pub fn tokenize(script: &str) -> Result<Vec<Token>, Unsupported> {
    Lexer {
        chars: script.chars().collect(),
        at: 0,
        tokens: Vec::new(),
        word: None,
    }
    .run()
}

struct Lexer {
    chars: Vec<char>,
    at: usize,
    tokens: Vec<Token>,
    word: Option<Word>,
}

impl Lexer {
    fn run(mut self) -> Result<Vec<Token>, Unsupported> {
        while let Some(c) = self.next() {
            match c {
                ' ' | '\t' => self.end_word(),
                '\n' | ';' => {
                    if c == ';' && self.peek() == Some(';') {
                        return Err(unsupported("`;;`"));
                    }
                    self.end_word();
                    self.tokens.push(Token::Separator);
                }
                '#' if self.word.is_none() => self.skip_comment(),
                '>' => self.redirect()?,
                '\'' => self.single_quoted()?,
                '"' => self.double_quoted()?,
                '\\' => match self.next() {
                    Some('\n') => {}
                    Some(escaped) => {
                        let word = self.word();
                        word.quoted = true;
                        word.push_char(escaped);
                    }
                    None => self.word().push_char('\\'),
                },
                '$' => self.dollar()?,
                '|' | '&' | '<' | '(' | ')' | '`' => {
                    return Err(unsupported(&format!(
                        "`{c}` (pipes, lists, subshells and input redirection)"
                    )));
                }
                '*' | '?' | '[' => return Err(unsupported(&format!("the glob `{c}`"))),
                c => self.word().push_char(c),
            }
        }
        self.end_word();
        Ok(self.tokens)
    }

    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.at).copied();
        self.at += 1;
        c
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn word(&mut self) -> &mut Word {
        self.word.get_or_insert_with(Word::default)
    }

    fn end_word(&mut self) {
        if let Some(word) = self.word.take() {
            self.tokens.push(Token::Word(word));
        }
    }

    fn skip_comment(&mut self) {
        while self.peek().is_some_and(|c| c != '\n') {
            self.at += 1;
        }
    }

    /// `>`, `>>`, `2>`, `2>>`; a word made only of digits just before `>` is the descriptor.
    fn redirect(&mut self) -> Result<(), Unsupported> {
        let fd = match &self.word {
            Some(word) if !word.quoted => word.plain().and_then(|t| t.parse::<u32>().ok()),
            _ => None,
        };
        if fd.is_some() {
            self.word = None;
        } else {
            self.end_word();
        }
        let append = self.peek() == Some('>');
        if append {
            self.at += 1;
        }
        if matches!(self.peek(), Some('&' | '|')) {
            return Err(unsupported("`>&` and `>|`"));
        }
        self.tokens.push(Token::Redirect {
            fd: fd.unwrap_or(1),
            append,
        });
        Ok(())
    }

    fn single_quoted(&mut self) -> Result<(), Unsupported> {
        self.word().quoted = true;
        loop {
            match self.next() {
                Some('\'') => return Ok(()),
                Some(c) => self.word().push_char(c),
                None => return Err(unsupported("an unterminated '")),
            }
        }
    }

    fn double_quoted(&mut self) -> Result<(), Unsupported> {
        self.word().quoted = true;
        loop {
            match self.next() {
                Some('"') => return Ok(()),
                Some('\\') => match self.next() {
                    Some(c @ ('"' | '\\' | '$' | '`')) => self.word().push_char(c),
                    Some('\n') => {}
                    Some(c) => {
                        self.word().push_char('\\');
                        self.word().push_char(c);
                    }
                    None => return Err(unsupported("an unterminated \"")),
                },
                Some('$') => self.dollar()?,
                Some('`') => return Err(unsupported("backquote command substitution")),
                Some(c) => self.word().push_char(c),
                None => return Err(unsupported("an unterminated \"")),
            }
        }
    }

    /// `$(date -u)` / `$(date)`; a `$` not followed by a name stays literal.
    fn dollar(&mut self) -> Result<(), Unsupported> {
        match self.peek() {
            Some('(') => {
                self.at += 1;
                let start = self.at;
                while self.peek().is_some_and(|c| c != ')') {
                    self.at += 1;
                }
                if self.next().is_none() {
                    return Err(unsupported("an unterminated $("));
                }
                let inner: String = self.chars[start..self.at - 1].iter().collect();
                let inner = inner.split_whitespace().collect::<Vec<_>>().join(" ");
                if inner != "date -u" && inner != "date" {
                    return Err(unsupported(&format!(
                        "the command substitution $({inner}) (only $(date -u) is emulated)"
                    )));
                }
                let word = self.word();
                word.quoted = true;
                word.parts.push(Part::Date);
                Ok(())
            }
            Some(c) if c.is_alphanumeric() || matches!(c, '_' | '{' | '?' | '@' | '*' | '#' | '$' | '!' | '-') => {
                Err(unsupported(&format!("the variable expansion ${c}...")))
            }
            _ => {
                self.word().push_char('$');
                Ok(())
            }
        }
    }
}

fn unsupported(what: &str) -> Unsupported {
    Unsupported(format!("unsupported shell syntax: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(tokens: &[Token]) -> Vec<String> {
        tokens
            .iter()
            .map(|t| match t {
                Token::Word(w) => w.expand(|| "DATE".into()),
                Token::Separator => ";".into(),
                Token::Redirect { fd, append } => format!("{fd}>{}", if *append { ">" } else { "" }),
            })
            .collect()
    }

    #[test]
    fn splits_the_poc_script() {
        let tokens =
            tokenize(r#"while true; do echo "$(date -u) - PoC APP 1" >> /data/out1.txt; tail -n 1 /data/out2.txt 2>/dev/null; sleep 5; done"#)
                .unwrap();
        assert_eq!(
            words(&tokens),
            [
                "while",
                "true",
                ";",
                "do",
                "echo",
                "DATE - PoC APP 1",
                "1>>",
                "/data/out1.txt",
                ";",
                "tail",
                "-n",
                "1",
                "/data/out2.txt",
                "2>",
                "/dev/null",
                ";",
                "sleep",
                "5",
                ";",
                "done"
            ]
        );
    }

    #[test]
    fn quotes_escapes_and_comments() {
        let tokens = tokenize("echo 'a b' \"c\\\"d\" e\\ f $ # comment\necho>x").unwrap();
        assert_eq!(
            words(&tokens),
            ["echo", "a b", "c\"d", "e f", "$", ";", "echo", "1>", "x"]
        );
    }

    #[test]
    fn refuses_what_it_cannot_run() {
        for script in [
            "a | b",
            "a && b",
            "echo $HOME",
            "echo $(whoami)",
            "ls /data/*",
            "echo `date`",
            "echo 'x",
        ] {
            assert!(tokenize(script).is_err(), "{script}");
        }
    }
}
