//! `call`'s questions for the user, asked on the terminal: a confirmation as `[y/N]`, a form
//! field by field. `--yes` confirms without asking; without a terminal nothing can be asked.

use std::io::{BufRead, IsTerminal, Write};

use mcp_actions::{ActionError, Answer, AskError, BoxFuture, Question, UserPrompt};
use serde_json::{Map, Value};

/// Asks on the terminal (stdin and stderr), or confirms for `--yes`.
pub(super) struct TerminalPrompt {
    /// `--yes`: confirmations are accepted without asking.
    pub(super) yes: bool,
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
            tokio::task::spawn_blocking(move || ask_on_terminal(&question))
                .await
                .map_err(|e| AskError::Failed(ActionError::internal(e.to_string())))?
                .map_err(|e| {
                    AskError::Failed(ActionError::service_unavailable(format!(
                        "could not read the answer from the terminal: {e}"
                    )))
                })
        })
    }
}

fn read_line(prompt: &str) -> std::io::Result<Option<String>> {
    let mut stderr = std::io::stderr().lock();
    write!(stderr, "{prompt}")?;
    stderr.flush()?;
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        return Ok(None); // end of input: the user walked away
    }
    Ok(Some(line.trim().to_owned()))
}

fn ask_on_terminal(question: &Question) -> std::io::Result<Answer> {
    let properties = question
        .schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if properties.is_empty() {
        return Ok(match read_line(&format!("{} [y/N] ", question.message))? {
            Some(answer) if matches!(answer.to_lowercase().as_str(), "y" | "yes") => {
                Answer::Accept(Map::new())
            }
            Some(_) => Answer::Decline,
            None => Answer::Cancel,
        });
    }
    eprintln!(
        "{} (an empty answer to a required field cancels)",
        question.message
    );
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
            let Some(text) = read_line(&prompt)? else {
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
                None => eprintln!("  not a {kind}; try again"),
            }
        }
    }
    Ok(Answer::Accept(content))
}
