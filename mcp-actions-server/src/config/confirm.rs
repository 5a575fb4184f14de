//! Asking the user: when actions confirm before they run, what happens with a client that
//! cannot ask, and the key that seals the state of 2026-07-28 calls that ask.

use std::time::Duration;

use mcp_actions::{ConfirmPolicy, WithoutPrompt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::secret::Secret;
use super::shapes;

/// The shortest `mcpActions.elicitation.stateKey` accepted, in bytes (HMAC-SHA256's block
/// security wants at least the digest's length).
pub(crate) const MIN_STATE_KEY_LENGTH: usize = 32;

/// What a confirmation does when the client did not declare the elicitation capability.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WithoutClientSupport {
    /// Refuse the call with `NotAllowedError`, saying the client cannot ask the user.
    #[default]
    Refuse,
    /// Run the action unconfirmed (a typed question, `ctx.elicit`, still fails: there is no
    /// answer to give it).
    Proceed,
}

impl From<WithoutClientSupport> for WithoutPrompt {
    fn from(value: WithoutClientSupport) -> Self {
        match value {
            WithoutClientSupport::Refuse => WithoutPrompt::Refuse,
            WithoutClientSupport::Proceed => WithoutPrompt::Proceed,
        }
    }
}

/// `mcpActions.confirm`: actions that ask the user to confirm before they run (those written
/// with `#[action(confirm)]`, and with `destructive: true` every destructive one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConfirmConfig {
    /// Ask the user to confirm every destructive action, not only those that say `confirm`.
    #[serde(deserialize_with = "shapes::boolean")]
    pub destructive: bool,
    /// What a confirmation does when the client cannot ask the user: `refuse` (a
    /// `NotAllowedError` saying so) or `proceed`. A named server may set its own.
    pub without_client_support: WithoutClientSupport,
}

impl ConfirmConfig {
    /// The policy of a server: `confirm: false` on it turns confirmations off, and its
    /// `withoutClientSupport` overrides this one.
    pub(crate) fn policy(
        &self,
        enabled: Option<bool>,
        without_client_support: Option<WithoutClientSupport>,
    ) -> ConfirmPolicy {
        ConfirmPolicy {
            enabled: enabled.unwrap_or(true),
            destructive: self.destructive,
            without_prompt: without_client_support
                .unwrap_or(self.without_client_support)
                .into(),
        }
    }
}

/// `mcpActions.elicitation`: questions for the user on the stateless 2026-07-28 revision, which
/// end a call with an input-required result that the client answers by calling again, and on
/// 2025-11-25 over Streamable HTTP, whose sealed session id says the client can be asked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct ElicitationConfig {
    /// The key that seals the state the client echoes back (HMAC-SHA256): 2026-07-28 round
    /// states and 2025-11-25 session ids (`Mcp-Session-Id`); at least 32 bytes; give every
    /// replica the same one (e.g. `${MCP_ACTIONS_STATE_KEY}`). Absent: a random key per
    /// process, so a retry must reach the same replica, a session id counts only on the
    /// replica that assigned it, and a restart forgets the questions in progress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_key: Option<Secret>,
    /// How long the client has to answer a question, in seconds.
    #[serde(deserialize_with = "shapes::whole_number")]
    pub answer_within_seconds: u64,
}

impl Default for ElicitationConfig {
    fn default() -> Self {
        Self {
            state_key: None,
            answer_within_seconds: 600,
        }
    }
}

impl ElicitationConfig {
    /// How long a sealed state is accepted.
    pub fn answer_within(&self) -> Duration {
        Duration::from_secs(self.answer_within_seconds)
    }
}
