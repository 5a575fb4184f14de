//! The error taxonomy actions report, named as in Backstage (`@backstage/errors`).

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

/// The kind of an [`ActionError`], named after Backstage's error classes.
///
/// Every kind but [`ErrorKind::InternalError`] is reported to the client as
/// `"<Name>: <message>"`. Internal errors are reported as a generic message with a reference
/// id; their details go to the server log only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input was invalid (HTTP 400).
    InputError,
    /// The caller could not be authenticated (HTTP 401).
    AuthenticationError,
    /// The caller is authenticated but not allowed to do this (HTTP 403).
    NotAllowedError,
    /// The action or the resource it works on does not exist (HTTP 404).
    NotFoundError,
    /// The request conflicts with the current state, e.g. a duplicate (HTTP 409).
    ConflictError,
    /// Nothing changed since the caller last looked (HTTP 304).
    NotModifiedError,
    /// The operation is not implemented (HTTP 501).
    NotImplementedError,
    /// A dependency is down, the action timed out or was cancelled (HTTP 503).
    ServiceUnavailableError,
    /// An unexpected failure. Its details are logged, never sent to the client.
    InternalError,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::InputError,
        ErrorKind::AuthenticationError,
        ErrorKind::NotAllowedError,
        ErrorKind::NotFoundError,
        ErrorKind::ConflictError,
        ErrorKind::NotModifiedError,
        ErrorKind::NotImplementedError,
        ErrorKind::ServiceUnavailableError,
        ErrorKind::InternalError,
    ];

    /// The Backstage name of the kind, e.g. `"NotFoundError"`.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::InputError => "InputError",
            ErrorKind::AuthenticationError => "AuthenticationError",
            ErrorKind::NotAllowedError => "NotAllowedError",
            ErrorKind::NotFoundError => "NotFoundError",
            ErrorKind::ConflictError => "ConflictError",
            ErrorKind::NotModifiedError => "NotModifiedError",
            ErrorKind::NotImplementedError => "NotImplementedError",
            ErrorKind::ServiceUnavailableError => "ServiceUnavailableError",
            ErrorKind::InternalError => "InternalError",
        }
    }

    /// The HTTP status Backstage maps the kind to.
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorKind::InputError => 400,
            ErrorKind::AuthenticationError => 401,
            ErrorKind::NotAllowedError => 403,
            ErrorKind::NotFoundError => 404,
            ErrorKind::ConflictError => 409,
            ErrorKind::NotModifiedError => 304,
            ErrorKind::NotImplementedError => 501,
            ErrorKind::ServiceUnavailableError => 503,
            ErrorKind::InternalError => 500,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error an action returns.
///
/// `Display` is what the client sees: `"NotFoundError: Entity x not found"`. For an internal
/// error that is `"InternalError: the action failed unexpectedly (ref 1a2b3c4d5e6f)"`; the
/// message and cause given to [`ActionError::internal`] are kept for the log
/// ([`ActionError::details`], `Debug`) and never shown to the client.
///
/// ```
/// use mcp_actions::ActionError;
///
/// let err = ActionError::not_found("Entity component:default/x not found");
/// assert_eq!(err.to_string(), "NotFoundError: Entity component:default/x not found");
///
/// let err = ActionError::internal("connection to db-7.internal:5432 refused");
/// assert!(!err.to_string().contains("db-7"));
/// assert!(err.details().contains("db-7"));
/// ```
pub struct ActionError {
    kind: ErrorKind,
    message: Cow<'static, str>,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
    reference: Option<String>,
}

macro_rules! constructors {
    ($($(#[$doc:meta])* $fn_name:ident => $kind:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $fn_name(message: impl Into<Cow<'static, str>>) -> Self {
                Self::new(ErrorKind::$kind, message)
            }
        )*
    };
}

impl ActionError {
    /// An error of the given kind. For [`ErrorKind::InternalError`] a reference id is assigned.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        let reference = (kind == ErrorKind::InternalError).then(new_reference);
        Self {
            kind,
            message: message.into(),
            source: None,
            reference,
        }
    }

    constructors! {
        /// `InputError`: the input was invalid.
        input => InputError;
        /// `AuthenticationError`: the caller could not be authenticated.
        authentication => AuthenticationError;
        /// `NotAllowedError`: the caller may not do this.
        not_allowed => NotAllowedError;
        /// `NotFoundError`: the thing asked for does not exist.
        not_found => NotFoundError;
        /// `ConflictError`: the request conflicts with the current state.
        conflict => ConflictError;
        /// `NotModifiedError`: nothing changed.
        not_modified => NotModifiedError;
        /// `NotImplementedError`: not implemented.
        not_implemented => NotImplementedError;
        /// `ServiceUnavailableError`: a dependency is unavailable; try again later.
        service_unavailable => ServiceUnavailableError;
        /// An internal error: `message` is logged, never sent to the client.
        internal => InternalError;
    }

    /// An internal error wrapping `source`; the source is logged, never sent to the client.
    pub fn internal_from(source: impl StdError + Send + Sync + 'static) -> Self {
        Self::internal("unexpected error").with_source(source)
    }

    /// Attaches the underlying cause (kept for logs and [`std::error::Error::source`]).
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The Backstage name of the kind, e.g. `"InputError"`.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// The message. For internal errors this is the private message meant for logs.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The reference id of an internal error, shown to the client and logged with the details.
    pub fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }

    /// Whether the details of this error must stay in the server log.
    pub fn is_internal(&self) -> bool {
        self.kind == ErrorKind::InternalError
    }

    /// Everything known about the error, for logs: kind, message and the chain of causes.
    pub fn details(&self) -> String {
        let mut out = format!("{}: {}", self.kind.name(), self.message);
        let mut cause: Option<&(dyn StdError + 'static)> = self.source.as_deref().map(|s| s as _);
        while let Some(err) = cause {
            out.push_str("; caused by: ");
            out.push_str(&err.to_string());
            cause = err.source();
        }
        out
    }
}

fn new_reference() -> String {
    let mut id = uuid::Uuid::new_v4().simple().to_string();
    id.truncate(12);
    id
}

impl fmt::Display for ActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reference {
            Some(reference) => write!(
                f,
                "InternalError: the action failed unexpectedly (ref {reference})"
            ),
            None => write!(f, "{}: {}", self.kind.name(), self.message),
        }
    }
}

impl fmt::Debug for ActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ActionError");
        s.field("kind", &self.kind).field("message", &self.message);
        if let Some(reference) = &self.reference {
            s.field("reference", reference);
        }
        if let Some(source) = &self.source {
            s.field("source", source);
        }
        s.finish()
    }
}

impl StdError for ActionError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}

impl From<std::convert::Infallible> for ActionError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl From<std::io::Error> for ActionError {
    fn from(err: std::io::Error) -> Self {
        Self::internal_from(err)
    }
}

impl From<serde_json::Error> for ActionError {
    fn from(err: serde_json::Error) -> Self {
        Self::internal_from(err)
    }
}

impl From<Box<dyn StdError + Send + Sync + 'static>> for ActionError {
    fn from(err: Box<dyn StdError + Send + Sync + 'static>) -> Self {
        let mut this = Self::internal("unexpected error");
        this.source = Some(err);
        this
    }
}

#[cfg(feature = "anyhow")]
#[cfg_attr(docsrs, doc(cfg(feature = "anyhow")))]
impl From<anyhow::Error> for ActionError {
    fn from(err: anyhow::Error) -> Self {
        // An `ActionError` that travelled through anyhow keeps its kind.
        match err.downcast::<ActionError>() {
            Ok(action_error) => action_error,
            Err(err) => Self::from(Box::<dyn StdError + Send + Sync>::from(err)),
        }
    }
}

/// The longest quoted value (`"…"` or `` `…` ``) [`cap_message`] keeps, in characters.
pub const MAX_QUOTED_CHARS: usize = 100;
/// The longest message [`cap_message`] returns, in characters (plus a final `…`).
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// Shortens an error message for clients and logs, so a huge input is never echoed back: every
/// quoted value (`"…"`, with `\"` escapes, or `` `…` ``) longer than [`MAX_QUOTED_CHARS`]
/// characters is cut there and marked with `…`, and the whole message is cut at
/// [`MAX_MESSAGE_CHARS`] characters.
///
/// ```
/// use mcp_actions::error::cap_message;
///
/// let long = "9".repeat(5_000);
/// let capped = cap_message(&format!("invalid type: string \"{long}\", expected u8"));
/// assert_eq!(capped, format!("invalid type: string \"{}…\", expected u8", "9".repeat(100)));
/// ```
pub fn cap_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE_CHARS + 8));
    let mut chars = message.chars();
    let mut count = 0usize;
    let mut push = |out: &mut String, c: char| {
        count += 1;
        if count <= MAX_MESSAGE_CHARS {
            out.push(c);
        } else if count == MAX_MESSAGE_CHARS + 1 {
            out.push('…');
        }
    };
    while let Some(c) = chars.next() {
        push(&mut out, c);
        if c != '"' && c != '`' {
            continue;
        }
        let (mut kept, mut cut, mut escaped) = (0usize, false, false);
        for inner in chars.by_ref() {
            if inner == c && !escaped {
                if cut {
                    push(&mut out, '…');
                }
                push(&mut out, inner);
                cut = false;
                break;
            }
            escaped = c == '"' && !escaped && inner == '\\';
            if kept < MAX_QUOTED_CHARS {
                push(&mut out, inner);
                kept += 1;
            } else {
                cut = true;
            }
        }
        if cut {
            // An unterminated quote that was cut.
            push(&mut out, '…');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_uses_backstage_names() {
        assert_eq!(
            ActionError::input("bad input").to_string(),
            "InputError: bad input"
        );
        assert_eq!(
            ActionError::service_unavailable("down").to_string(),
            "ServiceUnavailableError: down"
        );
        for kind in ErrorKind::ALL {
            assert!(
                ActionError::new(kind, "m")
                    .to_string()
                    .starts_with(kind.name())
            );
        }
    }

    #[test]
    fn internal_errors_hide_details_but_log_them() {
        let io = std::io::Error::other("secret path /etc/shadow");
        let err = ActionError::from(io);
        let shown = err.to_string();
        assert!(shown.starts_with("InternalError: "), "{shown}");
        assert!(!shown.contains("shadow"), "{shown}");
        let reference = err.reference().expect("internal errors carry a reference");
        assert!(shown.contains(reference));
        assert!(err.details().contains("/etc/shadow"));
    }

    #[cfg(feature = "anyhow")]
    #[test]
    fn anyhow_keeps_action_error_kind() {
        let err: anyhow::Error = ActionError::conflict("exists").into();
        assert_eq!(ActionError::from(err).kind(), ErrorKind::ConflictError);
        let err = ActionError::from(anyhow::anyhow!("boom"));
        assert!(err.is_internal());
        assert!(err.details().contains("boom"));
    }

    #[test]
    fn quoted_values_are_capped() {
        let long = "9".repeat(50_000);
        let message = format!("invalid type: string {long:?}, expected u8");
        let capped = cap_message(&message);
        assert_eq!(
            capped,
            format!("invalid type: string \"{}…\", expected u8", "9".repeat(100))
        );
        let message = format!("unknown field `{long}`, expected `name`");
        assert_eq!(
            cap_message(&message),
            format!("unknown field `{}…`, expected `name`", "9".repeat(100))
        );
        // Escaped quotes stay inside the value; short values are untouched.
        let message = r#"invalid type: string "a \"quoted\" word", expected u8"#;
        assert_eq!(cap_message(message), message);
        // Multi-byte characters are cut on a character boundary.
        let message = format!("string \"{}\"", "é".repeat(500));
        assert_eq!(
            cap_message(&message),
            format!("string \"{}…\"", "é".repeat(100))
        );
        // An unterminated quote, and the overall cap.
        assert_eq!(
            cap_message(&format!("x \"{long}")),
            format!("x \"{}…", "9".repeat(100))
        );
        let words = "word ".repeat(1_000);
        let capped = cap_message(&words);
        assert_eq!(capped.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(capped.ends_with('…'));
    }
}
