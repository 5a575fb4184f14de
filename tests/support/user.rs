//! An rmcp client that plays the user: it declares elicitation and answers each question with
//! the next scripted answer (declining once they run out), remembering what it was asked.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::client::Lifecycle;
use rmcp::model::{
    ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction,
    Implementation, ProtocolVersion,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{
    ClientHandler, ClientLifecycleMode, ClientServiceExt, ErrorData, RoleClient, ServiceExt,
};
use serde_json::Value;

/// A scripted answer: `action`, with `content` unless it is `null`.
pub fn answer(action: ElicitationAction, content: Value) -> ElicitResult {
    let result = ElicitResult::new(action);
    if content.is_null() {
        result
    } else {
        result.with_content(content)
    }
}

/// The user behind the client.
#[derive(Clone, Default)]
pub struct User {
    answers: Arc<Mutex<VecDeque<ElicitResult>>>,
    asked: Arc<Mutex<Vec<(String, Value)>>>,
}

impl User {
    /// A user who answers with `answers`, in order.
    pub fn answering(answers: impl IntoIterator<Item = ElicitResult>) -> Self {
        let user = Self::default();
        user.answers.lock().unwrap().extend(answers);
        user
    }

    /// What the user was asked: each message and form schema.
    pub fn asked(&self) -> Vec<(String, Value)> {
        self.asked.lock().unwrap().clone()
    }

    /// A client of `url` for this user, with `token`.
    pub async fn connect(
        &self,
        url: &str,
        token: &str,
        lifecycle: Lifecycle,
    ) -> RunningService<RoleClient, User> {
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(token),
        );
        let client = match lifecycle {
            Lifecycle::Initialize => self.clone().serve(transport).await,
            Lifecycle::Discover => {
                self.clone()
                    .serve_with_lifecycle(
                        transport,
                        ClientLifecycleMode::Discover {
                            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                        },
                    )
                    .await
            }
        };
        client.unwrap_or_else(|e| panic!("connecting to {url} with {lifecycle:?}: {e}"))
    }
}

impl ClientHandler for User {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_elicitation().build(),
            Implementation::new("elicit-test-user", "1"),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } = request
        else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        let schema = serde_json::to_value(&requested_schema).expect("a schema serializes");
        self.asked.lock().unwrap().push((message, schema));
        let next = self.answers.lock().unwrap().pop_front();
        Ok(next.unwrap_or_else(|| ElicitResult::new(ElicitationAction::Decline)))
    }
}
