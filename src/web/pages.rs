//! The pages of the onboarding flow, as HTML strings: the sign-in landing page, the
//! account page (new app password, per-client setup, app passwords, sync status), the
//! refusal page of the allow list and a page for anything that went wrong.

use super::html::{Esc, page};
use crate::bridge::AccountStatus;
use crate::server::users::AppPasswordInfo;
use std::fmt::Write as _;
use std::time::SystemTime;

/// The sign-in page.
pub fn landing(notice: Option<&str>) -> String {
    let mut body = String::new();
    if let Some(n) = notice {
        let _ = write!(
            body,
            "<section class=\"notice\"><p>{}</p></section>",
            Esc(n)
        );
    }
    body.push_str(
        "<section><h1>Your Outlook contacts on every device</h1>\
         <p>Sign in with your Microsoft account. cardbridge then creates an app password \
         for your phone, Mac or Thunderbird and shows how to set each one up.</p>\
         <p><a class=\"button signin\" id=\"sign-in\" href=\"/web/login\">Sign in with Microsoft</a></p>\
         <p class=\"muted\">Your Microsoft password is never seen by cardbridge: you sign \
         in on Microsoft's page, which hands cardbridge access to your contacts only.</p>\
         </section>",
    );
    page("Sign in", &body)
}

/// Everything the account page shows.
pub struct AccountPage<'a> {
    /// Canonical CardDAV user name.
    pub user: &'a str,
    /// Who signed in at Microsoft.
    pub upn: &'a str,
    pub csrf: &'a str,
    /// What to type as the server in a client (`{public_url}/`).
    pub server_url: &'a str,
    pub principal_url: &'a str,
    pub davx5_link: &'a str,
    /// The app password created just now, shown this once.
    pub new_password: Option<&'a str>,
    /// Whether the new password may still go into a configuration profile.
    pub profile_can_include_password: bool,
    pub notice: Option<&'a str>,
    pub passwords: &'a [AppPasswordInfo],
    pub status: Option<&'a AccountStatus>,
    pub now: SystemTime,
}

fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        Esc(csrf)
    )
}

fn when(t: Option<SystemTime>, now: SystemTime) -> String {
    let Some(t) = t else {
        return "never".into();
    };
    let secs = now.duration_since(t).map(|d| d.as_secs()).unwrap_or(0);
    let ago = match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        _ => format!("{} h ago", secs / 3600),
    };
    let at: chrono::DateTime<chrono::Utc> = t.into();
    format!("{ago} ({})", at.format("%Y-%m-%d %H:%M:%S UTC"))
}

fn status_section(out: &mut String, status: Option<&AccountStatus>, now: SystemTime) {
    out.push_str("<section id=\"status\"><h2>Sync status</h2>");
    let Some(s) = status else {
        out.push_str(
            "<p class=\"muted\">Not synced yet: the first sync of your mailbox starts after \
             sign-in and when a client first connects. Reload this page in a moment.</p></section>",
        );
        return;
    };
    let a = &s.account;
    if a.sign_in_required {
        out.push_str(
            "<p class=\"notice\">Microsoft no longer accepts the stored sign-in. \
             <a href=\"/web/login\">Sign in again</a> to resume syncing.</p>",
        );
    }
    let _ = write!(
        out,
        "<dl><dt>Last sync</dt><dd id=\"last-sync\">{}</dd>\
         <dt>Contacts</dt><dd id=\"total-contacts\">{}</dd>\
         <dt>Errors since start</dt><dd id=\"errors\">{}</dd>",
        Esc(&when(a.last_sync, now)),
        a.contacts,
        a.errors
    );
    if let Some(e) = &a.last_error {
        let _ = write!(out, "<dt>Last error</dt><dd>{}</dd>", Esc(e));
    }
    out.push_str("</dl>");
    if !s.books.is_empty() {
        out.push_str(
            "<table id=\"books\"><thead><tr><th>Address book</th><th>Contacts</th><th>Last sync</th></tr></thead><tbody>",
        );
        for b in &s.books {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                Esc(&b.name),
                b.contacts,
                Esc(&when(b.last_sync, now))
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
}

fn passwords_section(out: &mut String, p: &AccountPage<'_>) {
    out.push_str(
        "<section id=\"app-passwords\"><h2>App passwords</h2>\
         <p class=\"muted\">One per device is best: revoking one stops that device only.</p>\
         <table><thead><tr><th>Label</th><th>Created</th><th>Id</th><th></th></tr></thead><tbody>",
    );
    for pw in p.passwords {
        let _ = write!(
            out,
            "<tr><td>{label}</td><td>{created}</td><td><code>{id}</code></td><td>\
             <form class=\"inline\" method=\"post\" action=\"/web/passwords/revoke\">{csrf}\
             <input type=\"hidden\" name=\"id\" value=\"{id}\">\
             <button class=\"danger\" id=\"revoke-{id}\">Revoke</button></form></td></tr>",
            label = Esc(&pw.label),
            created = pw.created.format("%Y-%m-%d %H:%M UTC"),
            id = Esc(&pw.id),
            csrf = csrf_field(p.csrf),
        );
    }
    if p.passwords.is_empty() {
        out.push_str("<tr><td colspan=\"4\" class=\"muted\">none</td></tr>");
    }
    let _ = write!(
        out,
        "</tbody></table><form method=\"post\" action=\"/web/passwords/new\">{}\
         <p><button class=\"secondary\" id=\"new-password\">Create another app password</button></p></form></section>",
        csrf_field(p.csrf)
    );
}

/// The account page.
pub fn account(p: &AccountPage<'_>) -> String {
    let mut out = String::new();
    if let Some(n) = p.notice {
        let _ = write!(
            out,
            "<section class=\"notice\" id=\"notice\"><p>{}</p></section>",
            Esc(n)
        );
    }
    let _ = write!(
        out,
        "<section><h1>Signed in as {upn}</h1><dl>\
         <dt>Server</dt><dd><code id=\"server-url\">{server}</code></dd>\
         <dt>User name</dt><dd><code id=\"user-name\">{user}</code></dd>\
         <dt>Principal URL</dt><dd><code>{principal}</code></dd></dl>\
         <form method=\"post\" action=\"/web/logout\">{csrf}<p><button class=\"secondary\" id=\"sign-out\">Sign out</button></p></form></section>",
        upn = Esc(p.upn),
        server = Esc(p.server_url),
        user = Esc(p.user),
        principal = Esc(p.principal_url),
        csrf = csrf_field(p.csrf),
    );
    if let Some(pw) = p.new_password {
        let _ = write!(
            out,
            "<section class=\"fresh\" id=\"new-app-password\"><h2>Your new app password</h2>\
             <p><span class=\"secret\" id=\"app-password\">{}</span></p>\
             <p>Copy it into your client now: it is shown <strong>only this once</strong>. \
             Lost it? Create another one below and revoke this one.</p></section>",
            Esc(pw)
        );
    }
    let _ = write!(
        out,
        "<section id=\"thunderbird\"><h2>Thunderbird</h2><ol>\
         <li>Open the Address Book, then <em>New Address Book</em> › <em>Add CardDAV Address Book</em>.</li>\
         <li>User name: <code>{user}</code>; location: <code>{server}</code>; click <em>Continue</em>.</li>\
         <li>Enter the app password when asked, tick <em>Use Password Manager</em> and pick the address books to sync.</li></ol></section>",
        user = Esc(p.user),
        server = Esc(p.server_url),
    );
    let _ = write!(
        out,
        "<section id=\"davx5\"><h2>Android (DAVx⁵)</h2>\
         <img class=\"qr\" src=\"/web/qr.svg\" alt=\"QR code of the DAVx5 setup link\" id=\"qr\">\
         <ol><li>Install DAVx⁵, then scan this code with a QR scanner app and open the link \
         in DAVx⁵ — or on this phone tap <a href=\"{link}\" id=\"davx5-link\">open in DAVx⁵</a>.</li>\
         <li>Without the code: <em>+</em> › <em>Login with URL and user name</em>, base URL \
         <code>{server}</code>, user name <code>{user}</code>.</li>\
         <li>Enter the app password, then choose the address books to sync. Contact group \
         method: either works.</li></ol></section>",
        link = Esc(p.davx5_link),
        server = Esc(p.server_url),
        user = Esc(p.user),
    );
    let include = if p.profile_can_include_password {
        "<p><label><input type=\"checkbox\" name=\"include_password\" value=\"1\" id=\"include-password\"> \
         Put the new app password into the profile (then anyone holding the file can use \
         it; delete the file after installing)</label></p>"
    } else {
        "<p class=\"muted\">The device asks for the app password while installing the profile.</p>"
    };
    let _ = write!(
        out,
        "<section id=\"apple\"><h2>iPhone, iPad and Mac</h2>\
         <p>Download the configuration profile and open it: on iOS under <em>Settings</em> › \
         <em>Profile Downloaded</em>, on macOS in <em>System Settings</em> › <em>Privacy &amp; Security</em> › <em>Profiles</em>.</p>\
         <form method=\"post\" action=\"/web/profile.mobileconfig\">{csrf}{include}\
         <p><button id=\"download-profile\">Download profile (.mobileconfig)</button></p></form>\
         <p class=\"muted\">By hand: <em>Add Account</em> › <em>Other</em> › <em>CardDAV account</em>, \
         server <code>{server}</code>, user name <code>{user}</code>.</p></section>",
        csrf = csrf_field(p.csrf),
        server = Esc(p.server_url),
        user = Esc(p.user),
    );
    passwords_section(&mut out, p);
    status_section(&mut out, p.status, p.now);
    page("Your account", &out)
}

/// The allow list refused this sign-in.
pub fn refused(upn: &str) -> String {
    page(
        "Not allowed",
        &format!(
            "<section class=\"error\" id=\"refused\"><h1>This account may not use cardbridge here</h1>\
             <p>You signed in as <strong>{}</strong>, which the administrator has not \
             allowed. Nothing was stored. Ask your administrator, or \
             <a href=\"/web/\">sign in with another account</a>.</p></section>",
            Esc(upn)
        ),
    )
}

/// Something went wrong; `message` is shown as text.
pub fn problem(title: &str, message: &str) -> String {
    page(
        title,
        &format!(
            "<section class=\"error\" id=\"problem\"><h1>{}</h1><p>{}</p>\
             <p><a href=\"/web/\">Back to the start</a></p></section>",
            Esc(title),
            Esc(message)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::{AccountStats, BookStatus};
    use std::time::Duration;

    fn base<'a>(
        passwords: &'a [AppPasswordInfo],
        status: Option<&'a AccountStatus>,
    ) -> AccountPage<'a> {
        AccountPage {
            user: "alice@example.org",
            upn: "Alice@Example.org",
            csrf: "tok\"en",
            server_url: "https://c.example/",
            principal_url: "https://c.example/dav/principals/alice@example.org/",
            davx5_link: "carddavs://alice%40example.org@c.example/",
            new_password: None,
            profile_can_include_password: false,
            notice: None,
            passwords,
            status,
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
        }
    }

    #[test]
    fn account_page_escapes_what_it_did_not_write() {
        let pw = [AppPasswordInfo {
            id: "<id>".into(),
            label: "<script>x</script>".into(),
            created: chrono::Utc::now(),
        }];
        let status = AccountStatus {
            account: AccountStats {
                last_error: Some("<b>boom</b>".into()),
                ..AccountStats::default()
            },
            books: vec![BookStatus {
                name: "Family & <Friends>".into(),
                contacts: 3,
                last_sync: None,
            }],
        };
        let mut p = base(&pw, Some(&status));
        p.notice = Some("<i>n</i>");
        p.new_password = Some("<pw>");
        let html = account(&p);
        for raw in [
            "<script>x",
            "<b>boom",
            "<Friends>",
            "<i>n",
            "<pw>",
            "<id>",
            "tok\"en",
        ] {
            assert!(!html.contains(raw), "unescaped {raw}");
        }
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("Family &amp; &lt;Friends&gt;"));
        assert!(html.contains("value=\"tok&quot;en\""));
        assert!(!html.contains("<script"));
    }

    #[test]
    fn every_form_carries_the_csrf_token() {
        let pw = [AppPasswordInfo {
            id: "abc".into(),
            label: "phone".into(),
            created: chrono::Utc::now(),
        }];
        let html = account(&base(&pw, None));
        let forms = html.matches("<form").count();
        assert_eq!(forms, 4, "sign-out, profile, revoke, new password");
        assert_eq!(html.matches("name=\"csrf\"").count(), forms);
    }

    #[test]
    fn password_section_only_with_a_new_password_and_status_shows_books() {
        let none = account(&base(&[], None));
        assert!(!none.contains("id=\"app-password\""));
        assert!(none.contains("Not synced yet"));
        let status = AccountStatus {
            account: AccountStats {
                contacts: 7,
                last_sync: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(999_880)),
                ..AccountStats::default()
            },
            books: vec![BookStatus {
                name: "Contacts".into(),
                contacts: 7,
                last_sync: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(999_880)),
            }],
        };
        let mut p = base(&[], Some(&status));
        p.new_password = Some("abcdef-ghijkm");
        let html = account(&p);
        assert!(html.contains("<span class=\"secret\" id=\"app-password\">abcdef-ghijkm</span>"));
        assert!(html.contains("<td>Contacts</td><td>7</td><td>2 min ago"));
    }

    #[test]
    fn refusal_and_problem_pages_escape() {
        assert!(refused("<x>@y").contains("&lt;x&gt;@y"));
        let p = problem("Oops", "<bad>");
        assert!(p.contains("&lt;bad&gt;") && !p.contains("<bad>"));
    }
}
