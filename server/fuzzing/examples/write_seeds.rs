//! Writes the seed corpus (`hushpay_fuzzing::seeds::all`) to `fuzz/seeds/<target>/<name>`,
//! replacing what is there. Run after changing a target's input format:
//! `cargo run -p hushpay-fuzzing --example write_seeds`.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    for t in hushpay_fuzzing::TARGETS {
        let dir = root.join(t.name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
    }
    let seeds = hushpay_fuzzing::seeds::all();
    for s in &seeds {
        std::fs::create_dir_all(root.join(s.target))?;
        std::fs::write(root.join(s.target).join(&s.name), &s.bytes)?;
    }
    println!("wrote {} seeds under {}", seeds.len(), root.display());
    Ok(())
}
