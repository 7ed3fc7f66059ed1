//! Who may sign in on the onboarding page: the admin's allow list of tenants and users.
//!
//! Both lists empty: anyone the app registration lets sign in. Otherwise a sign-in is
//! allowed when its tenant id (`tid` claim) is in `allowed_tenants` **or** its UPN is
//! in `allowed_users`, so an admin can allow a whole directory plus a few named
//! outsiders. Comparison ignores ASCII case (GUIDs and UPNs are case-insensitive).

/// The allow list, lower-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    tenants: Vec<String>,
    users: Vec<String>,
}

impl AllowList {
    pub fn new(tenants: &[String], users: &[String]) -> Self {
        let norm = |v: &[String]| {
            v.iter()
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Self {
            tenants: norm(tenants),
            users: norm(users),
        }
    }

    /// True when no list restricts sign-ins.
    pub fn is_open(&self) -> bool {
        self.tenants.is_empty() && self.users.is_empty()
    }

    /// Whether a sign-in of `upn` from `tenant` may continue.
    pub fn allows(&self, tenant: Option<&str>, upn: &str) -> bool {
        if self.is_open() {
            return true;
        }
        let tenant_ok = tenant.is_some_and(|t| {
            let t = t.trim().to_ascii_lowercase();
            self.tenants.contains(&t)
        });
        let upn = upn.trim().to_ascii_lowercase();
        tenant_ok || self.users.contains(&upn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(t: &[&str], u: &[&str]) -> AllowList {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        AllowList::new(&v(t), &v(u))
    }

    #[test]
    fn empty_lists_allow_everyone() {
        let a = list(&[], &[" "]);
        assert!(a.is_open());
        assert!(a.allows(None, "anyone@example.org"));
    }

    #[test]
    fn a_tenant_or_a_named_user_is_allowed_nobody_else() {
        let a = list(&["AAAA-1111"], &["Guest@Other.example"]);
        assert!(!a.is_open());
        assert!(a.allows(Some("aaaa-1111"), "alice@example.org"));
        assert!(a.allows(Some("bbbb-2222"), "guest@other.example"));
        assert!(a.allows(None, "GUEST@other.example"));
        assert!(!a.allows(Some("bbbb-2222"), "mallory@example.org"));
        assert!(!a.allows(None, "alice@example.org"));
    }

    #[test]
    fn user_list_alone_restricts_by_upn_only() {
        let a = list(&[], &["alice@example.org"]);
        assert!(a.allows(Some("any-tenant"), "alice@example.org"));
        assert!(!a.allows(Some("any-tenant"), "bob@example.org"));
    }
}
