//! Runs one input through one target's body (the replay of a crash the fuzzer wrote):
//! `cargo run -p hushpay-fuzzing --example run_input TARGET FILE`.

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(name), Some(file)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: run_input TARGET FILE");
        std::process::exit(2);
    };
    let Some(t) = hushpay_fuzzing::TARGETS.iter().find(|t| t.name == name) else {
        eprintln!("unknown target {name}");
        std::process::exit(2);
    };
    (t.run)(&std::fs::read(file)?);
    println!("{name}: {file} passes");
    Ok(())
}
