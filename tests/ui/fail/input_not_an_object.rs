use mcp_actions::prelude::*;

#[derive(Serialize, JsonSchema)]
struct Out {
    greeting: String,
}

/// Greet someone: the input is a bare `String`, not an object.
#[action(title = "Greet")]
async fn greet(name: String) -> Result<Out, ActionError> {
    Ok(Out { greeting: name })
}

/// Count: a number.
#[action(title = "Count")]
async fn count(n: u32) -> Result<Out, ActionError> {
    Ok(Out { greeting: n.to_string() })
}

/// Join: a `Vec`.
#[action(title = "Join")]
async fn join(input: Vec<String>) -> Result<Out, ActionError> {
    Ok(Out { greeting: input.join(" ") })
}

/// Maybe: an `Option`.
#[action(title = "Maybe")]
async fn maybe(name: Option<std::string::String>) -> Result<Out, ActionError> {
    Ok(Out { greeting: name.unwrap_or_default() })
}

/// Pair: a tuple.
#[action(title = "Pair")]
async fn pair(input: (String, u32)) -> Result<Out, ActionError> {
    Ok(Out { greeting: input.0 })
}

/// Nothing: unit.
#[action(title = "Nothing")]
async fn nothing(input: ()) -> Result<Out, ActionError> {
    let () = input;
    Ok(Out { greeting: String::new() })
}

fn main() {}
