//! Dispatch rules: which tenant's room an authorised call goes to.
//!
//! Rules belong to a tenant and apply only to calls arriving on that tenant's trunks (a trunk of
//! one tenant can never reach another tenant's room). The first rule whose matchers all hold
//! wins; a rule with no matcher catches every call of its tenant.

/// Where the call goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoomTarget {
    /// An existing room, by id.
    Room(String),
    /// A new room for every call (the application mints its id).
    NewPerCall,
    /// The called user names a payment a third-party IVR hands its caller over for
    /// (`pay_...`): the application checks it before the call is answered.
    Payment,
}

/// One dispatch rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchRule {
    pub tenant: String,
    /// The called number (the Request-URI's user part) must equal this, if set.
    pub called: Option<String>,
    /// A header (name, value) that must be present with exactly this value, if set.
    pub header: Option<(String, String)>,
    pub room: RoomTarget,
}

/// What the router looks at in a call.
#[derive(Clone, Copy)]
pub struct CallFacts<'a> {
    pub tenant: &'a str,
    pub called: Option<&'a str>,
    pub header: &'a dyn Fn(&str) -> Option<&'a str>,
}

impl std::fmt::Debug for CallFacts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallFacts")
            .field("tenant", &self.tenant)
            .field("called", &self.called)
            .finish_non_exhaustive()
    }
}

/// The first rule of the call's tenant that matches.
pub fn route<'r>(rules: &'r [DispatchRule], facts: CallFacts<'_>) -> Option<&'r DispatchRule> {
    rules.iter().find(|r| {
        r.tenant == facts.tenant
            && r.called
                .as_deref()
                .is_none_or(|want| facts.called == Some(want))
            && r.header
                .as_ref()
                .is_none_or(|(name, want)| (facts.header)(name).map(str::trim) == Some(want))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        tenant: &str,
        called: Option<&str>,
        header: Option<(&str, &str)>,
        room: RoomTarget,
    ) -> DispatchRule {
        DispatchRule {
            tenant: tenant.into(),
            called: called.map(Into::into),
            header: header.map(|(n, v)| (n.into(), v.into())),
            room,
        }
    }

    #[test]
    fn first_matching_rule_of_the_tenant_wins() {
        let rules = vec![
            rule(
                "acme",
                Some("+441234"),
                None,
                RoomTarget::Room("r-pay".into()),
            ),
            rule(
                "acme",
                None,
                Some(("X-Queue", "billing")),
                RoomTarget::Room("r-bill".into()),
            ),
            rule("other", None, None, RoomTarget::Room("r-other".into())),
            rule("acme", None, None, RoomTarget::NewPerCall),
        ];
        fn none(_: &str) -> Option<&'static str> {
            None
        }
        fn billing(n: &str) -> Option<&'static str> {
            n.eq_ignore_ascii_case("x-queue").then_some("billing")
        }
        let f = |called, header: &'static dyn Fn(&str) -> Option<&'static str>| CallFacts {
            tenant: "acme",
            called,
            header,
        };
        assert_eq!(
            route(&rules, f(Some("+441234"), &none)).map(|r| &r.room),
            Some(&RoomTarget::Room("r-pay".into()))
        );
        assert_eq!(
            route(&rules, f(Some("999"), &billing)).map(|r| &r.room),
            Some(&RoomTarget::Room("r-bill".into()))
        );
        assert_eq!(
            route(&rules, f(Some("999"), &none)).map(|r| &r.room),
            Some(&RoomTarget::NewPerCall)
        );
        let other_tenant = CallFacts {
            tenant: "nobody",
            called: None,
            header: &none,
        };
        assert!(route(&rules, other_tenant).is_none());
    }
}
