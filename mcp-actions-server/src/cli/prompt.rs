//! Questions for the user, asked on the terminal: a confirmation as `[y/N]`, a form field by
//! field. `call` asks on its stdin and stderr (`--yes` confirms without asking; without a
//! terminal nothing can be asked); `serve --stdio`, whose stdin and stdout carry the protocol,
//! asks on its controlling terminal (`/dev/tty`) when its client cannot ask the user and its
//! stderr is that terminal: someone started it by hand and watches it. A client that pipes the
//! server's stderr (an editor, a terminal UI that shares the terminal) is never interrupted.

use std::io::{BufRead, BufReader, IsTerminal, Write};

use mcp_actions::{ActionError, Answer, AskError, BoxFuture, Question, UserPrompt};
use serde_json::{Map, Value};

/// Asks on the terminal (stdin and stderr), or confirms for `--yes`.
pub(super) struct TerminalPrompt {
    /// `--yes`: confirmations are accepted without asking.
    pub(super) yes: bool,
}

/// Asks on the process's controlling terminal (`/dev/tty`) when stderr is a terminal; else the
/// question is one nobody can take ([`AskError::Unsupported`]: the configured refuse/proceed
/// decides).
pub(super) struct TtyPrompt;

impl UserPrompt for TtyPrompt {
    fn ask(&self, question: Question) -> BoxFuture<'_, Result<Answer, AskError>> {
        Box::pin(async move {
            let tty = std::io::stderr()
                .is_terminal()
                .then(|| {
                    std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .open("/dev/tty")
                        .ok()
                })
                .flatten();
            let Some(tty) = tty else {
                return Err(AskError::Unsupported);
            };
            ask_blocking(move || {
                let output = tty.try_clone()?;
                let mut terminal = Terminal {
                    input: Box::new(BufReader::new(tty)),
                    output: Box::new(output),
                };
                ask_on_terminal(&mut terminal, &question)
            })
            .await
        })
    }
}

/// Runs `ask` (reading the terminal) off the async threads.
async fn ask_blocking(
    ask: impl FnOnce() -> std::io::Result<Answer> + Send + 'static,
) -> Result<Answer, AskError> {
    tokio::task::spawn_blocking(ask)
        .await
        .map_err(|e| AskError::Failed(ActionError::internal(e.to_string())))?
        .map_err(|e| {
            AskError::Failed(ActionError::service_unavailable(format!(
                "could not read the answer from the terminal: {e}"
            )))
        })
}

/// Where questions are written and answers read.
struct Terminal {
    input: Box<dyn BufRead>,
    output: Box<dyn Write>,
}

impl Terminal {
    /// This process's stdin and stderr.
    fn stdio() -> Self {
        Self {
            input: Box::new(std::io::stdin().lock()),
            output: Box::new(std::io::stderr()),
        }
    }

    fn say(&mut self, text: &str) -> std::io::Result<()> {
        writeln!(self.output, "{text}")
    }

    fn read_line(&mut self, prompt: &str) -> std::io::Result<Option<String>> {
        write!(self.output, "{prompt}")?;
        self.output.flush()?;
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            return Ok(None); // end of input: the user walked away
        }
        Ok(Some(line.trim().to_owned()))
    }
}

impl UserPrompt for TerminalPrompt {
    fn ask(&self, question: Question) -> BoxFuture<'_, Result<Answer, AskError>> {
        let yes = self.yes;
        Box::pin(async move {
            let is_confirmation = question
                .schema
                .get("properties")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty);
            if is_confirmation && yes {
                return Ok(Answer::Accept(Map::new()));
            }
            if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
                let what = if is_confirmation {
                    "this action needs the user's confirmation and there is no terminal to ask on: run `call` in a terminal, or pass --yes to confirm"
                } else {
                    "this action asks the user a question and there is no terminal to ask on: run `call` in a terminal"
                };
                return Err(AskError::Failed(ActionError::not_allowed(what)));
            }
            ask_blocking(move || ask_on_terminal(&mut Terminal::stdio(), &question)).await
        })
    }
}

fn ask_on_terminal(terminal: &mut Terminal, question: &Question) -> std::io::Result<Answer> {
    let properties = question
        .schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if properties.is_empty() {
        return Ok(
            match terminal.read_line(&format!("{} [y/N] ", question.message))? {
                Some(answer) if matches!(answer.to_lowercase().as_str(), "y" | "yes") => {
                    Answer::Accept(Map::new())
                }
                Some(_) => Answer::Decline,
                None => Answer::Cancel,
            },
        );
    }
    terminal.say(&format!(
        "{} (an empty answer to a required field cancels)",
        question.message
    ))?;
    let required: Vec<&str> = question
        .schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut content = Map::new();
    for (name, property) in &properties {
        let kind = property
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("string");
        let mut prompt = name.clone();
        if let Some(description) = property.get("description").and_then(Value::as_str) {
            prompt.push_str(&format!(" ({description})"));
        }
        if let Some(choices) = property.get("enum").and_then(Value::as_array) {
            let choices: Vec<String> = choices
                .iter()
                .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_owned))
                .collect();
            prompt.push_str(&format!(" [{}]", choices.join("/")));
        } else if kind == "boolean" {
            prompt.push_str(" [y/n]");
        }
        prompt.push_str(": ");
        loop {
            let Some(text) = terminal.read_line(&prompt)? else {
                return Ok(Answer::Cancel);
            };
            if text.is_empty() {
                if required.contains(&name.as_str()) {
                    return Ok(Answer::Cancel);
                }
                break;
            }
            let value = match kind {
                "integer" => text.parse::<i64>().ok().map(Value::from),
                "number" => text.parse::<f64>().ok().map(Value::from),
                "boolean" => match text.to_lowercase().as_str() {
                    "y" | "yes" | "true" => Some(Value::Bool(true)),
                    "n" | "no" | "false" => Some(Value::Bool(false)),
                    _ => None,
                },
                _ => Some(Value::String(text)),
            };
            match value {
                Some(value) => {
                    content.insert(name.clone(), value);
                    break;
                }
                None => terminal.say(&format!("  not a {kind}; try again"))?,
            }
        }
    }
    Ok(Answer::Accept(content))
}
