//! Deterministic sample data and JSON seed files.
//!
//! [`seed_sample`] fills a mailbox with `n` realistic contacts from a seed: names from
//! several languages, emails, phones, addresses, birthdays, notes, categories, some
//! photos, spread over the default folder and "Work", "Family" and "Work/Clients" (a
//! nested folder). The first ten contacts follow a fixed pattern of folders and features,
//! so even `n = 10` is varied; after that choices come from SplitMix64. Work per contact
//! is a few string formats, so 100,000 contacts take well under a second or two.
//!
//! Seed file format ([`seed_json`]):
//! ```json
//! { "users": [ { "upn": "alex@contoso.test", "displayName": "Alex",
//!     "sample": { "count": 50, "rngSeed": 7 },
//!     "contacts": [ { "givenName": "Pavel", "surname": "Bansky" } ],
//!     "folders": [ { "displayName": "Clients", "contacts": [ {…} ],
//!                    "folders": [ { "displayName": "VIP" } ] } ] } ] }
//! ```
//! Contacts are Graph JSON (validated like a POST), optionally with `"photo": "<base64>"`.

use super::ids::SplitMix;
use super::props::WriteMode;
use super::world::{Mailbox, StoredPhoto, World};
use base64::Engine;
use serde_json::{Value, json};

const PHOTOS: [&[u8]; 3] = [
    include_bytes!("assets/photo-0.jpg"),
    include_bytes!("assets/photo-1.jpg"),
    include_bytes!("assets/photo-2.jpg"),
];

const GIVEN: &[&str] = &[
    "Alex",
    "Maria",
    "Pavel",
    "Aiko",
    "Jürgen",
    "Zoë",
    "Mohammed",
    "Chloé",
    "Oluwaseun",
    "Siobhán",
    "Wei",
    "Priya",
    "Lars",
    "Ana",
    "Dmitri",
    "Fatima",
    "Noah",
    "Isabella",
    "Kenji",
    "Amara",
    "Lucas",
    "Ingrid",
    "Mateo",
    "Yuki",
    "Olga",
    "Tomás",
    "Leila",
    "Henrik",
    "Emma",
    "Raj",
];
const SURNAMES: &[&str] = &[
    "Wilber",
    "García",
    "Bansky",
    "Tanaka",
    "Müller",
    "O'Brien",
    "Al-Sayed",
    "Dubois",
    "Adeyemi",
    "Nguyen",
    "Kowalski",
    "Rossi",
    "Johansson",
    "Smith",
    "Ivanova",
    "Haddad",
    "Chen",
    "Patel",
    "Fernández",
    "Kim",
    "Novak",
    "Larsen",
    "Silva",
    "Van der Berg",
    "Yamamoto",
    "Schmidt",
];
const COMPANIES: &[&str] = &[
    "Contoso Ltd",
    "Fabrikam, Inc.",
    "Northwind Traders",
    "Tailspin Toys",
    "Adventure Works",
    "Litware",
    "Wide World Importers",
    "Proseware",
    "Woodgrove Bank",
    "Trey Research",
];
const TITLES: &[&str] = &[
    "Engineer",
    "Product Manager",
    "CTO",
    "Accountant",
    "Designer",
    "Sales Lead",
    "Nurse",
    "Teacher",
    "Architect",
    "Consultant",
];
const DEPARTMENTS: &[&str] = &["R&D", "Finance", "Sales", "Operations", "Legal", "Support"];
/// City, state, country, postcode; `STREETS[i]` is a street of `CITIES[i]`.
const CITIES: &[(&str, &str, &str, &str)] = &[
    ("Seattle", "WA", "United States", "98121"),
    ("Berlin", "", "Germany", "10115"),
    ("Lyon", "", "France", "69002"),
    ("Tokyo", "Tokyo", "Japan", "100-0001"),
    ("Lagos", "Lagos", "Nigeria", "100001"),
    ("São Paulo", "SP", "Brazil", "01310-100"),
    ("Oslo", "", "Norway", "0150"),
    ("Toronto", "ON", "Canada", "M5H 2N2"),
];
const STREETS: &[&str] = &[
    "Main Street",
    "Hauptstraße",
    "Rue de la République",
    "Sakura-dori",
    "Harbour Road",
    "Avenida Paulista",
    "Karl Johans gate",
    "King Street West",
];
const CATEGORIES: &[&str] = &[
    "Friends",
    "Family",
    "Clients",
    "VIP",
    "Colleagues",
    "Suppliers",
];
const NOTES: &[&str] = &[
    "Met at the 2019 conference.",
    "Prefers phone calls in the morning.\nAllergic to nuts.",
    "Call back about the Q3 proposal; contract #42 — urgent.",
    "Emoji test: 🎉 and a tab\tcharacter.",
];

/// Folders every seeded mailbox gets: (name, parent name or `None` = default folder).
const SEED_FOLDERS: &[(&str, Option<&str>)] =
    &[("Work", None), ("Family", None), ("Clients", Some("Work"))];

/// Folder slot per contact: 0 default, 1 Work, 2 Family, 3 Work/Clients.
const FIRST_TEN: [usize; 10] = [0, 1, 0, 2, 0, 3, 0, 1, 2, 0];

fn folder_key_by_name(mb: &mut Mailbox, name: &str, parent: Option<u64>) -> u64 {
    let parent = parent.unwrap_or(mb.default_folder);
    if let Some(f) = mb
        .child_folders(parent)
        .iter()
        .find(|f| f.display_name == name)
    {
        return f.key;
    }
    mb.create_folder(parent, name).unwrap_or(parent)
}

/// Add `n` sample contacts to `mb`, reproducibly from `rng_seed`. Returns how many.
pub fn seed_sample(mb: &mut Mailbox, n: usize, rng_seed: u64) -> usize {
    let mut slots = vec![mb.default_folder];
    for (name, parent) in SEED_FOLDERS {
        let p = parent.map(|pn| folder_key_by_name(mb, pn, None));
        slots.push(folder_key_by_name(mb, name, p));
    }
    let mut rng = SplitMix(rng_seed);
    let mut made = 0;
    let start = mb.contacts.len();
    for i in 0..n {
        let slot = if i < FIRST_TEN.len() {
            FIRST_TEN[i]
        } else {
            match rng.below(10) {
                0..=5 => 0,
                6 | 7 => 1,
                8 => 2,
                _ => 3,
            }
        };
        let body = sample_contact(&mut rng, i, start + i);
        let photo = (i % 4 == 1) || (i >= 10 && rng.chance(15));
        let w = WriteMode {
            create: true,
            allow_extended: true,
        };
        if let Ok(key) = mb.create_contact(slots[slot], &body, w) {
            if photo {
                let bytes = PHOTOS[(i + slot) % PHOTOS.len()];
                let _ = mb.set_photo(
                    key,
                    StoredPhoto {
                        content_type: "image/jpeg".into(),
                        bytes: bytes::Bytes::from_static(bytes),
                    },
                    false,
                );
            }
            made += 1;
        }
    }
    made
}

fn sample_contact(rng: &mut SplitMix, i: usize, serial: usize) -> Value {
    let given = *rng.pick(GIVEN);
    let surname = *rng.pick(SURNAMES);
    let ascii = |s: &str| -> String {
        s.chars()
            .filter_map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' => Some(c.to_ascii_lowercase()),
                'ü' => Some('u'),
                'ë' | 'é' => Some('e'),
                'á' => Some('a'),
                'ó' => Some('o'),
                _ => None,
            })
            .collect()
    };
    let company = *rng.pick(COMPANIES);
    let domain = format!(
        "{}.example",
        ascii(company.split(' ').next().unwrap_or("mail"))
    );
    let mut c = json!({
        "givenName": given,
        "surname": surname,
        "emailAddresses": [ { "name": format!("{given} {surname}"), "address": format!("{}.{}{}@{domain}", ascii(given), ascii(surname), serial) } ],
        "mobilePhone": format!("+1 555 {:03} {:04}", rng.below(1000), rng.below(10000)),
    });
    let features = if i < 10 { i } else { rng.below(10) };
    let o = c.as_object_mut();
    let Some(o) = o else { return c };
    if features % 2 == 0 || rng.chance(50) {
        o.insert("companyName".into(), json!(company));
        o.insert("jobTitle".into(), json!(*rng.pick(TITLES)));
        o.insert("department".into(), json!(*rng.pick(DEPARTMENTS)));
        o.insert(
            "businessPhones".into(),
            json!([format!("+1 425 555 {:04}", rng.below(10000))]),
        );
    }
    if features % 3 == 0 {
        let ci = rng.below(CITIES.len());
        let (city, state, country, zip) = CITIES[ci];
        o.insert(
            "homeAddress".into(),
            json!({"street": format!("{} {}", 1 + rng.below(200), STREETS[ci]), "city": city, "state": state, "countryOrRegion": country, "postalCode": zip}),
        );
        o.insert(
            "homePhones".into(),
            json!([format!("+1 206 555 {:04}", rng.below(10000))]),
        );
    }
    if features % 4 == 1 {
        let ci = rng.below(CITIES.len());
        let (city, state, country, zip) = CITIES[ci];
        o.insert(
            "businessAddress".into(),
            json!({"street": format!("{} {}\nSuite {}", 1 + rng.below(900), STREETS[ci], 100 + rng.below(400)), "city": city, "state": state, "countryOrRegion": country, "postalCode": zip}),
        );
        o.insert(
            "businessHomePage".into(),
            json!(format!("https://www.{domain}/")),
        );
    }
    if features % 3 != 1 {
        o.insert(
            "birthday".into(),
            json!(format!(
                "{}-{:02}-{:02}",
                1950 + rng.below(55),
                1 + rng.below(12),
                1 + rng.below(28)
            )),
        );
    }
    if features == 5 || rng.chance(15) {
        o.insert("personalNotes".into(), json!(*rng.pick(NOTES)));
    }
    if features % 5 == 2 || rng.chance(20) {
        let a = *rng.pick(CATEGORIES);
        let b = *rng.pick(CATEGORIES);
        let cats: Vec<&str> = if a == b { vec![a] } else { vec![a, b] };
        o.insert("categories".into(), json!(cats));
    }
    if features == 7 {
        o.insert("middleName".into(), json!("Q."));
        o.insert("title".into(), json!("Dr."));
        o.insert("generation".into(), json!("Jr."));
        o.insert(
            "nickName".into(),
            json!(given.chars().take(3).collect::<String>()),
        );
        o.insert(
            "imAddresses".into(),
            json!([format!("{}@im.example", ascii(given))]),
        );
        o.insert("spouseName".into(), json!(*rng.pick(GIVEN)));
        o.insert("children".into(), json!([*rng.pick(GIVEN)]));
        o.insert("emailAddresses".into(), json!([
            {"name": format!("{given} {surname}"), "address": format!("{}{}@home.example", ascii(given), serial)},
            {"address": format!("{}.{}{}@{domain}", ascii(given), ascii(surname), serial)}
        ]));
    }
    if features == 9 {
        o.insert("yomiGivenName".into(), json!("アイコ"));
        o.insert("yomiSurname".into(), json!("タナカ"));
        o.insert("assistantName".into(), json!(*rng.pick(GIVEN)));
        o.insert("manager".into(), json!(*rng.pick(GIVEN)));
        o.insert(
            "officeLocation".into(),
            json!(format!("Building {}", 1 + rng.below(40))),
        );
        o.insert("profession".into(), json!("Physician"));
    }
    c
}

/// Load a seed document (module docs) into `world`. Users are created when missing.
pub fn seed_json(world: &mut World, text: &str) -> anyhow::Result<()> {
    let doc: Value = serde_json::from_str(text)?;
    let users = doc
        .get("users")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow::anyhow!("seed: top-level \"users\" array missing"))?;
    for u in users {
        let upn = u
            .get("upn")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow::anyhow!("seed: user without \"upn\""))?;
        let display = u.get("displayName").and_then(Value::as_str).unwrap_or(upn);
        let id = world.add_user(upn, display);
        let mb = world
            .users
            .get_mut(&id)
            .ok_or_else(|| anyhow::anyhow!("seed: user {upn} vanished"))?;
        let root = mb.default_folder;
        seed_contacts(mb, root, u.get("contacts"))?;
        seed_folders(mb, root, u.get("folders"))?;
        if let Some(s) = u.get("sample") {
            let n = s.get("count").and_then(Value::as_u64).unwrap_or(0) as usize;
            let r = s.get("rngSeed").and_then(Value::as_u64).unwrap_or(1);
            seed_sample(mb, n, r);
        }
    }
    Ok(())
}

fn seed_folders(mb: &mut Mailbox, parent: u64, folders: Option<&Value>) -> anyhow::Result<()> {
    let Some(list) = folders.and_then(Value::as_array) else {
        return Ok(());
    };
    for f in list {
        let name = f
            .get("displayName")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow::anyhow!("seed: folder without \"displayName\""))?;
        let key = match mb
            .child_folders(parent)
            .iter()
            .find(|x| x.display_name == name)
        {
            Some(x) => x.key,
            None => mb
                .create_folder(parent, name)
                .map_err(|e| anyhow::anyhow!("seed: folder {name}: {}", e.message))?,
        };
        seed_contacts(mb, key, f.get("contacts"))?;
        seed_folders(mb, key, f.get("folders"))?;
    }
    Ok(())
}

fn seed_contacts(mb: &mut Mailbox, folder: u64, contacts: Option<&Value>) -> anyhow::Result<()> {
    let Some(list) = contacts.and_then(Value::as_array) else {
        return Ok(());
    };
    for c in list {
        let mut body = c.clone();
        let photo = body
            .as_object_mut()
            .and_then(|o| o.remove("photo"))
            .and_then(|p| p.as_str().map(str::to_owned));
        let key = mb
            .create_contact(
                folder,
                &body,
                WriteMode {
                    create: true,
                    allow_extended: true,
                },
            )
            .map_err(|e| anyhow::anyhow!("seed: contact rejected: {}", e.message))?;
        if let Some(p) = photo {
            let bytes = base64::engine::general_purpose::STANDARD.decode(p.trim())?;
            let _ = mb.set_photo(
                key,
                StoredPhoto {
                    content_type: "image/jpeg".into(),
                    bytes: bytes.into(),
                },
                false,
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_contacts_are_varied_and_reproducible() {
        let mut a = Mailbox::new(1, "a@x", "A");
        let mut b = Mailbox::new(1, "a@x", "A");
        assert_eq!(seed_sample(&mut a, 10, 42), 10);
        seed_sample(&mut b, 10, 42);
        let names = |mb: &Mailbox| {
            let mut v: Vec<String> = mb
                .contacts
                .values()
                .map(|c| c.props["displayName"].as_str().unwrap_or("").to_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&a), names(&b));
        let folders_used: std::collections::HashSet<u64> =
            a.contacts.values().map(|c| c.folder).collect();
        assert_eq!(folders_used.len(), 4);
        assert!(a.contacts.values().any(|c| c.photo.is_some()));
        assert!(
            a.contacts
                .values()
                .any(|c| c.props.contains_key("birthday"))
        );
        assert!(
            a.contacts
                .values()
                .any(|c| c.props.contains_key("homeAddress"))
        );
        assert!(
            a.contacts
                .values()
                .any(|c| c.props.contains_key("categories"))
        );
        assert!(
            a.contacts
                .values()
                .any(|c| c.props.contains_key("personalNotes"))
        );
        let clients = a
            .folders
            .values()
            .find(|f| f.display_name == "Clients")
            .unwrap();
        let work = a
            .folders
            .values()
            .find(|f| f.display_name == "Work")
            .unwrap();
        assert_eq!(clients.parent, Some(work.key));
    }

    #[test]
    fn seed_json_creates_users_folders_and_contacts() {
        let mut w = World::default();
        seed_json(
            &mut w,
            r#"{"users":[{"upn":"x@y","contacts":[{"givenName":"A"}],
                "folders":[{"displayName":"F","contacts":[{"givenName":"B"}],"folders":[{"displayName":"G"}]}]}]}"#,
        )
        .unwrap();
        let mb = w.mailbox("x@y").unwrap();
        assert_eq!(mb.contacts.len(), 2);
        assert_eq!(mb.folders.len(), 3);
        assert!(
            seed_json(
                &mut w,
                r#"{"users":[{"upn":"x@y","contacts":[{"bogus":1}]}]}"#
            )
            .is_err()
        );
    }
}
