//! Output for a person: a spinner with the current state on a terminal, plain lines otherwise,
//! and a summary table at the end.

use crate::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub struct Display {
    spinner: Option<ProgressBar>,
}

impl Display {
    pub fn new() -> Self {
        let spinner = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self { spinner }
    }

    pub fn show(&self, lines: &[String], progress: &Progress) {
        for line in lines {
            match &self.spinner {
                Some(bar) => bar.println(line),
                None => println!("{line}"),
            }
        }
        if let Some(bar) = &self.spinner {
            bar.set_message(format!(
                "{} · {:.0}s · {} transitions · {} polls",
                progress.current.as_deref().unwrap_or("…"),
                progress.elapsed(),
                progress.transitions,
                progress.polls()
            ));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.spinner {
            bar.finish_and_clear();
        }
    }
}

pub fn summary(progress: &Progress) -> String {
    let width = progress.states.iter().map(|s| s.name.len()).max().unwrap_or(5).max(5);
    let mut table = format!("{:<width$}  {:>7}  {:>9}\n", "state", "entries", "seconds");
    for state in &progress.states {
        table.push_str(&format!(
            "{:<width$}  {:>7}  {:>9.1}\n",
            state.name, state.entries, state.seconds
        ));
    }
    table.push_str(&format!(
        "{:<width$}  {:>7}  {:>9.1}   ({} polls)\n",
        "total",
        progress.transitions,
        progress.elapsed(),
        progress.polls()
    ));
    table
}
