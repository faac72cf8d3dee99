//! The README's key table is the key table of the program: it is made from `keys::BINDINGS`,
//! and this test fails when the two differ. `UPDATE_README=1 cargo test -p dockwatch-tui --test
//! readme_keys` writes the current table into the README.

use std::path::PathBuf;

use dockwatch_tui::keys::markdown_table;

const BEGIN: &str = "<!-- keys: made from tui/src/keys.rs by tui/tests/readme_keys.rs -->\n";
const END: &str = "<!-- end of keys -->\n";

#[test]
fn the_readme_lists_the_keys_the_program_has() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md is readable");
    let start = readme.find(BEGIN).expect("the README marks its key table") + BEGIN.len();
    let len = readme[start..]
        .find(END)
        .expect("the README ends its key table");
    let table = markdown_table();
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{}{}", &readme[..start], table, &readme[start + len..]);
        std::fs::write(&path, updated).expect("README.md is writable");
        return;
    }
    assert_eq!(
        &readme[start..start + len],
        table,
        "the README's key table differs from keys::BINDINGS; run UPDATE_README=1 cargo test -p dockwatch-tui --test readme_keys"
    );
}
