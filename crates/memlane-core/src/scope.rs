//! Scopes: whose memory this is.

use serde::{Deserialize, Serialize};

use crate::{limits::check_name, Error};

/// Whose memory a memory is, and which memories a query sees.
///
/// `tenant` is always set, by authentication, never by a request body: every operation is confined to one tenant.
/// `user`, `agent` and `session` are optional. A memory's scope says which it belongs to; a query's scope matches the
/// memories whose fields equal every field the query gives (fields it leaves out match anything).
///
/// ```
/// use memlane_core::Scope;
/// let memory = Scope::tenant("acme").with_user("alice").with_session("s1");
/// assert!(Scope::tenant("acme").with_user("alice").matches(&memory));
/// assert!(!Scope::tenant("acme").with_user("bob").matches(&memory));
/// assert!(!Scope::tenant("other").matches(&memory));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// The tenant: an isolated namespace.
    pub tenant: String,
    /// The end user the memory is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The agent that holds the memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The conversation or run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

impl Scope {
    /// A scope of the whole tenant.
    pub fn tenant(tenant: impl Into<String>) -> Self {
        Scope {
            tenant: tenant.into(),
            ..Scope::default()
        }
    }

    /// This scope with `user` set.
    pub fn with_user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// This scope with `agent` set.
    pub fn with_agent(mut self, agent: impl Into<String>) -> Self {
        self.agent = Some(agent.into());
        self
    }

    /// This scope with `session` set.
    pub fn with_session(mut self, session: impl Into<String>) -> Self {
        self.session = Some(session.into());
        self
    }

    /// Whether a memory whose scope is `memory` falls within this (query) scope.
    pub fn matches(&self, memory: &Scope) -> bool {
        fn field(q: &Option<String>, m: &Option<String>) -> bool {
            q.as_ref().is_none_or(|q| m.as_ref() == Some(q))
        }
        self.tenant == memory.tenant
            && field(&self.user, &memory.user)
            && field(&self.agent, &memory.agent)
            && field(&self.session, &memory.session)
    }

    /// Whether only the tenant is set.
    pub fn is_whole_tenant(&self) -> bool {
        self.user.is_none() && self.agent.is_none() && self.session.is_none()
    }

    /// Checks every field: non-empty, at most 256 bytes, no control characters.
    pub fn validate(&self) -> Result<(), Error> {
        check_name("scope.tenant", &self.tenant)?;
        for (name, v) in [
            ("scope.user", &self.user),
            ("scope.agent", &self.agent),
            ("scope.session", &self.session),
        ] {
            if let Some(v) = v {
                check_name(name, v)?;
            }
        }
        Ok(())
    }
}
