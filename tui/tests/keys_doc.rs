//! The key table of `docs/keys.md` is the key table of the program: it is made from
//! `keys::BINDINGS`, and this test fails when the two differ. `UPDATE_KEYS_DOC=1 cargo test -p
//! dockwatch-tui --test keys_doc` writes the current table into the document.

use std::path::PathBuf;

use dockwatch_tui::keys::markdown_table;

const BEGIN: &str = "<!-- keys: made from tui/src/keys.rs by tui/tests/keys_doc.rs -->\n";
const END: &str = "<!-- end of keys -->\n";

#[test]
fn the_key_document_lists_the_keys_the_program_has() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/keys.md");
    let readme = std::fs::read_to_string(&path).expect("docs/keys.md is readable");
    let start = readme
        .find(BEGIN)
        .expect("docs/keys.md marks its key table")
        + BEGIN.len();
    let len = readme[start..]
        .find(END)
        .expect("docs/keys.md ends its key table");
    let table = markdown_table();
    if std::env::var_os("UPDATE_KEYS_DOC").is_some() {
        let updated = format!("{}{}{}", &readme[..start], table, &readme[start + len..]);
        std::fs::write(&path, updated).expect("docs/keys.md is writable");
        return;
    }
    assert_eq!(
        &readme[start..start + len],
        table,
        "docs/keys.md's key table differs from keys::BINDINGS; run UPDATE_KEYS_DOC=1 cargo test -p dockwatch-tui --test keys_doc"
    );
}
