//! Asking the user through the client, on both protocol revisions.
//!
//! - Revisions with server-to-client requests (2025-11-25 and older, on a transport that keeps
//!   the client's capabilities: stdio, the legacy SSE endpoint): [`PeerPrompt`] sends
//!   `elicitation/create` during the call and waits for the answer, bounded by the action's
//!   timeout like the rest of the call.
//! - 2026-07-28, which has none (SEP-2322 multi round-trip requests): [`Rounds`] answers a
//!   question from the answers the client sent with this retry; the first question without one
//!   ends the call with an input-required result that carries it, and the client calls again
//!   with the answer. The action then runs again from the start. The answers given so far
//!   travel in `requestState`, sealed with HMAC-SHA256 (rmcp's [`RequestStateCodec`]) under a
//!   key shared by the replicas and bound to the caller, the tool, the arguments and an
//!   expiry, so a state cannot be forged, altered, carried to another call or caller, or used
//!   after it expired.
//!
//! - Streamable HTTP on 2025-11-25, which rmcp serves statelessly: [`Asking::Prompt`] with the
//!   HTTP layer's own prompt (`http::elicit`): the client's capabilities travel in a sealed
//!   `Mcp-Session-Id`, the call's response turns into an SSE stream carrying
//!   `elicitation/create`, and the client's POSTed answer is routed to the waiting call. Without
//!   such a session, rmcp tells the handler nothing of the client's capabilities there: a call
//!   is a client that cannot be asked.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_actions::{ActionError, Answer, AskError, BoxFuture, Credentials, Question, UserPrompt};
use rmcp::RoleServer;
use rmcp::model::{
    ClientCapabilities, ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction,
    ElicitationSchema, InputRequest, InputRequiredResult, InputResponses, RequestStateCodec,
    SealOptions,
};
use rmcp::service::{ElicitationMode, Peer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How long a sealed round state is accepted by default.
pub(crate) const DEFAULT_ROUND_TTL: Duration = Duration::from_secs(600);

/// [`can_elicit`] on the JSON of `io.modelcontextprotocol/clientCapabilities`, without
/// deserializing the rest of it (the direct path's).
pub(crate) fn json_can_elicit(capabilities: Option<&Value>) -> bool {
    capabilities
        .and_then(|c| c.get("elicitation"))
        .and_then(Value::as_object)
        .is_some_and(|e| e.contains_key("form") || !e.contains_key("url"))
}

/// Whether the client declared form elicitation (an `elicitation` capability naming neither
/// mode means form, for compatibility).
pub(crate) fn can_elicit(capabilities: &ClientCapabilities) -> bool {
    capabilities
        .elicitation
        .as_ref()
        .is_some_and(|e| e.form.is_some() || e.url.is_none())
}

pub(crate) fn form(question: &Question) -> Result<ElicitRequestParams, AskError> {
    let schema: ElicitationSchema = serde_json::from_value(Value::Object(question.schema.clone()))
        .map_err(|e| {
            AskError::Failed(ActionError::internal(format!(
                "the form of the question “{}” is not an MCP elicitation schema: {e}",
                question.message
            )))
        })?;
    Ok(ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: question.message.clone(),
        requested_schema: schema,
    })
}

pub(crate) fn answer_of(result: ElicitResult) -> Answer {
    match result.action {
        ElicitationAction::Accept => match result.content {
            Some(Value::Object(content)) => Answer::Accept(content),
            _ => Answer::Accept(Default::default()),
        },
        ElicitationAction::Decline => Answer::Decline,
        // `cancel`, and anything a later revision adds: not a yes.
        _ => Answer::Cancel,
    }
}

/// Who an action's questions for the user go to, by the call's revision and transport.
pub(crate) enum Asking {
    /// No one: the client cannot be asked (Streamable HTTP before 2026-07-28 without a session
    /// that says it can).
    Nobody,
    /// `elicitation/create` on this peer (a transport with server-to-client requests); when the
    /// client did not declare elicitation, the transport's fallback prompt if it has one.
    Peer(Peer<RoleServer>, Option<FallbackPrompt>),
    /// A prompt of the transport's own (Streamable HTTP on 2025-11-25 with a sealed session).
    Prompt(Arc<dyn UserPrompt>),
    /// 2026-07-28 rounds: an input-required result, answered by a retry of the call.
    Rounds {
        /// The client declared the elicitation capability.
        can_ask: bool,
        /// The retry's `requestState`.
        request_state: Option<String>,
        /// The retry's `inputResponses`.
        responses: Option<InputResponses>,
    },
}

/// What a call asks through, and (2026-07-28) its rounds with the caller they are bound to.
type Prepared = (
    Option<Arc<dyn UserPrompt>>,
    Option<(Arc<Rounds>, Credentials)>,
);

impl Asking {
    /// The prompt of a call of `tool` with `arguments` by `credentials`; a retry's state that
    /// does not open is [`BadState`].
    pub(crate) fn prompt(
        self,
        seal: &RoundSeal,
        credentials: &Credentials,
        tool: &str,
        arguments: Option<&Value>,
    ) -> Result<Prepared, BadState> {
        match self {
            // A first round from a client that cannot ask: nothing to seal or answer, and no
            // copy of the arguments to keep (the common 2026-07-28 call stays as cheap).
            Asking::Nobody
            | Asking::Rounds {
                can_ask: false,
                request_state: None,
                responses: None,
            } => Ok((None, None)),
            Asking::Peer(peer, fallback) => {
                Ok((Some(Arc::new(PeerPrompt { peer, fallback })), None))
            }
            Asking::Prompt(prompt) => Ok((Some(prompt), None)),
            Asking::Rounds {
                can_ask,
                request_state,
                responses,
            } => {
                let bound = (credentials, tool, arguments);
                let rounds = Arc::new(Rounds::open(
                    seal,
                    can_ask,
                    bound,
                    request_state.as_deref(),
                    responses,
                )?);
                let prompt: Arc<dyn UserPrompt> = rounds.clone();
                Ok((Some(prompt), Some((rounds, credentials.clone()))))
            }
        }
    }
}

/// The answer to a retry whose `requestState` is refused: JSON-RPC -32602 (nothing ran).
pub(crate) fn bad_state_error() -> rmcp::ErrorData {
    rmcp::ErrorData::invalid_params(
        "InputError: the `requestState` of this call is not valid: it was altered, issued for another call or caller, or has expired; call the tool again without `requestState` and `inputResponses`",
        None,
    )
}

/// Where a transport asks the user when its client cannot be asked: `serve --stdio` asks on
/// the process's controlling terminal, if it has one. Put in the request's `Parts`
/// extensions by the transport.
#[derive(Clone)]
pub(crate) struct FallbackPrompt(pub(crate) Arc<dyn UserPrompt>);

/// Asks with `elicitation/create` on a peer that takes server-to-client requests, or with the
/// transport's fallback when the client did not declare form elicitation.
pub(crate) struct PeerPrompt {
    pub(crate) peer: Peer<RoleServer>,
    pub(crate) fallback: Option<FallbackPrompt>,
}

impl UserPrompt for PeerPrompt {
    fn ask(&self, question: Question) -> BoxFuture<'_, Result<Answer, AskError>> {
        Box::pin(async move {
            if !self
                .peer
                .supported_elicitation_modes()
                .contains(&ElicitationMode::Form)
            {
                return match &self.fallback {
                    Some(FallbackPrompt(prompt)) => prompt.ask(question).await,
                    None => Err(AskError::Unsupported),
                };
            }
            let params = form(&question)?;
            match self.peer.create_elicitation(params).await {
                Ok(result) => Ok(answer_of(result)),
                Err(error) => {
                    tracing::info!(%error, "the client did not answer a question for the user");
                    Err(AskError::Failed(ActionError::service_unavailable(
                        "the client did not answer the question for the user",
                    )))
                }
            }
        })
    }
}

/// The key (`mcpActions.elicitation.stateKey`) and lifetime of sealed round states.
#[derive(Clone)]
pub(crate) struct RoundSeal {
    codec: Arc<RequestStateCodec>,
    ttl: Duration,
}

impl std::fmt::Debug for RoundSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoundSeal")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl RoundSeal {
    /// Seals with `key` (at least 32 bytes; checked by the config).
    pub(crate) fn new(key: &[u8], ttl: Duration) -> Result<Self, String> {
        let codec = RequestStateCodec::try_new(key.to_vec()).map_err(|e| e.to_string())?;
        Ok(Self {
            codec: Arc::new(codec),
            ttl,
        })
    }

    /// Seals `value` bound to `binding` (which must name its purpose first, so a value sealed
    /// for one purpose never opens for another), valid for `ttl`.
    pub(crate) fn seal_bound<T: Serialize>(
        &self,
        value: &T,
        binding: &[u8],
        ttl: Duration,
    ) -> Result<String, rmcp::model::RequestStateError> {
        let options = SealOptions::new().associated_data(binding).ttl(ttl);
        self.codec.seal_json_with(value, &options)
    }

    /// Opens what [`RoundSeal::seal_bound`] sealed with the same `binding`, unless it was
    /// altered or has expired.
    pub(crate) fn open_bound<T: serde::de::DeserializeOwned>(
        &self,
        sealed: &str,
        binding: &[u8],
    ) -> Result<T, rmcp::model::RequestStateError> {
        self.codec.open_json_with(sealed, binding)
    }

    /// A key of this process only: states do not survive a restart or reach another replica.
    pub(crate) fn ephemeral(ttl: Duration) -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system's random number generator failed");
        Self::new(&key, ttl).expect("32 bytes is long enough")
    }
}

/// What a state is bound to: the caller, the tool and its arguments.
fn binding(credentials: &Credentials, tool: &str, arguments: Option<&Value>) -> Vec<u8> {
    let arguments = arguments.map(Value::to_string).unwrap_or_default();
    let digest = Sha256::digest(arguments.as_bytes());
    let mut bound = format!(
        "mcp-actions/rounds/v1\n{}\n{tool}\n",
        credentials.principal()
    )
    .into_bytes();
    bound.extend_from_slice(&digest);
    bound
}

/// A question's fingerprint: an answer counts only for the question it was given to.
fn fingerprint(question: &Question) -> String {
    let text = serde_json::to_string(&(&question.message, &question.schema)).unwrap_or_default();
    let digest = Sha256::digest(text.as_bytes());
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// What `requestState` carries between rounds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// Question key → (fingerprint, the client's `ElicitResult`), for questions answered.
    #[serde(default)]
    answers: BTreeMap<String, (String, Value)>,
    /// Question key → fingerprint, for the questions of the last input-required result.
    #[serde(default)]
    asked: BTreeMap<String, String>,
}

/// Why a retried call's `requestState` is refused.
#[derive(Debug)]
pub(crate) struct BadState;

/// The questions of one 2026-07-28 call: answered from the answers of earlier rounds, or
/// recorded for an input-required result.
pub(crate) struct Rounds {
    can_ask: bool,
    state: Mutex<Progress>,
}

struct Progress {
    answers: BTreeMap<String, (String, Value)>,
    next: usize,
    pending: Option<(String, String, Question)>,
}

impl Rounds {
    /// The rounds of a call; `request_state` and `responses` as the client sent them. A state
    /// that does not open (forged, altered, for another call or caller, expired) is refused.
    pub(crate) fn open(
        seal: &RoundSeal,
        can_ask: bool,
        bound_to: (&Credentials, &str, Option<&Value>),
        request_state: Option<&str>,
        responses: Option<InputResponses>,
    ) -> Result<Self, BadState> {
        let mut state = match request_state {
            None => State::default(),
            Some(sealed) => {
                let binding = binding(bound_to.0, bound_to.1, bound_to.2);
                seal.codec
                    .open_json_with::<State>(sealed, &binding)
                    .map_err(|error| {
                        tracing::info!(%error, "refused a requestState");
                        BadState
                    })?
            }
        };
        // Only answers to the questions last asked count; anything else is ignored.
        for (key, response) in responses.unwrap_or_default() {
            if let Some(fingerprint) = state.asked.get(&key) {
                state.answers.insert(key, (fingerprint.clone(), response));
            }
        }
        Ok(Self {
            can_ask,
            state: Mutex::new(Progress {
                answers: state.answers,
                next: 0,
                pending: None,
            }),
        })
    }

    /// The input-required result for the first unanswered question, if the call stopped at
    /// one; its state carries the answers so far.
    pub(crate) fn input_required(
        &self,
        seal: &RoundSeal,
        bound_to: (&Credentials, &str, Option<&Value>),
    ) -> Option<Result<InputRequiredResult, ActionError>> {
        let progress = self.state.lock().expect("rounds lock");
        let (key, fingerprint, question) = progress.pending.as_ref()?;
        let params = match form(question) {
            Ok(params) => params,
            Err(AskError::Failed(error)) => return Some(Err(error)),
            Err(AskError::Unsupported) => unreachable!("form() fails only with Failed"),
        };
        let state = State {
            answers: progress.answers.clone(),
            asked: BTreeMap::from([(key.clone(), fingerprint.clone())]),
        };
        let binding = binding(bound_to.0, bound_to.1, bound_to.2);
        let options = SealOptions::new().associated_data(&binding).ttl(seal.ttl);
        let sealed = match seal.codec.seal_json_with(&state, &options) {
            Ok(sealed) => sealed,
            Err(error) => {
                return Some(Err(ActionError::internal(format!(
                    "could not seal the round state: {error}"
                ))));
            }
        };
        let request = InputRequest::Elicitation(ElicitRequest::new(params));
        let requests = BTreeMap::from([(key.clone(), request)]);
        Some(Ok(InputRequiredResult::new(Some(requests), Some(sealed))))
    }
}

impl UserPrompt for Rounds {
    fn ask(&self, question: Question) -> BoxFuture<'_, Result<Answer, AskError>> {
        let answer = (|| {
            if !self.can_ask {
                return Err(AskError::Unsupported);
            }
            let mut progress = self.state.lock().expect("rounds lock");
            let key = format!("q{}", progress.next);
            progress.next += 1;
            let fingerprint = fingerprint(&question);
            if let Some((given_to, response)) = progress.answers.get(&key)
                && *given_to == fingerprint
            {
                return match serde_json::from_value::<ElicitResult>(response.clone()) {
                    Ok(result) => Ok(answer_of(result)),
                    Err(error) => Err(AskError::Failed(ActionError::input(
                        mcp_actions::error::cap_message(&format!(
                            "the answer in `inputResponses.{key}` is not an elicitation result: {error}"
                        )),
                    ))),
                };
            }
            if progress.pending.is_none() {
                progress.pending = Some((key, fingerprint, question));
            }
            // Replaced by the input-required result: the call does not end with this error.
            Err(AskError::Failed(ActionError::service_unavailable(
                "waiting for the user's answer",
            )))
        })();
        Box::pin(std::future::ready(answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_actions::elicit::confirmation_schema;

    fn question(message: &str) -> Question {
        Question {
            message: message.into(),
            schema: confirmation_schema(),
        }
    }

    fn bound<'a>(
        credentials: &'a Credentials,
        arguments: &'a Value,
    ) -> (&'a Credentials, &'a str, Option<&'a Value>) {
        (credentials, "delete", Some(arguments))
    }

    #[tokio::test]
    async fn a_sealed_state_opens_only_for_its_call_and_carries_the_answers() {
        let seal = RoundSeal::ephemeral(DEFAULT_ROUND_TTL);
        let alice = Credentials::service("alice");
        let args = serde_json::json!({"name": "x"});
        let first = Rounds::open(&seal, true, bound(&alice, &args), None, None)
            .unwrap_or_else(|_| unreachable!());
        assert!(first.ask(question("Sure?")).await.is_err());
        let result = first
            .input_required(&seal, bound(&alice, &args))
            .unwrap()
            .unwrap();
        let state = result.request_state.clone().unwrap();
        assert!(result.input_requests.unwrap().contains_key("q0"));

        let accept = serde_json::json!({"action": "accept", "content": {}});
        let responses = BTreeMap::from([("q0".to_owned(), accept)]);
        let second = Rounds::open(
            &seal,
            true,
            bound(&alice, &args),
            Some(&state),
            Some(responses.clone()),
        )
        .unwrap_or_else(|_| unreachable!());
        assert_eq!(
            second.ask(question("Sure?")).await.unwrap(),
            Answer::Accept(Default::default())
        );
        // Another question at the same position is not answered by it.
        assert!(second.ask(question("And this?")).await.is_err());

        let bob = Credentials::service("bob");
        let other_args = serde_json::json!({"name": "y"});
        for (who, arguments) in [(&bob, &args), (&alice, &other_args)] {
            assert!(Rounds::open(&seal, true, bound(who, arguments), Some(&state), None).is_err());
        }
        let mut tampered = state.clone();
        tampered.insert(
            10,
            if state.as_bytes()[10] == b'A' {
                'B'
            } else {
                'A'
            },
        );
        assert!(Rounds::open(&seal, true, bound(&alice, &args), Some(&tampered), None).is_err());

        let expired = RoundSeal {
            codec: Arc::clone(&seal.codec),
            ttl: Duration::from_millis(1),
        };
        let rounds = Rounds::open(&expired, true, bound(&alice, &args), None, None)
            .unwrap_or_else(|_| unreachable!());
        let _ = rounds.ask(question("Sure?")).await;
        let state = rounds
            .input_required(&expired, bound(&alice, &args))
            .unwrap()
            .unwrap()
            .request_state
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(Rounds::open(&seal, true, bound(&alice, &args), Some(&state), None).is_err());
    }
}
