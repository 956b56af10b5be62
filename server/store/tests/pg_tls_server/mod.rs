//! A throwaway PostgreSQL server with TLS, started from Debian's binaries
//! (`/usr/lib/postgresql/<version>/bin`): its own data directory in a temporary directory,
//! its own port on 127.0.0.1, `ssl = on` with the certificate it is given, and a `pg_hba.conf`
//! that accepts TCP connections over TLS only (`hostssl`). PostgreSQL refuses to run as root,
//! so as root the binaries run as the `postgres` user (`runuser`). Dropping the value stops
//! the server (`pg_ctl stop -m immediate`) and removes the directory, also when a test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The server's certificate chain and key, PEM.
pub struct ServerCertificate {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A running server; stopped and removed on drop.
pub struct TlsServer {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
}

/// The directory of the newest PostgreSQL server binaries, or `None` when none is installed.
pub fn server_binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file()
                && bin.join("pg_ctl").is_file()
                && bin.join("postgres").is_file())
            .then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

impl TlsServer {
    /// Creates, configures and starts a server with `cert`; panics with the server's log when
    /// it does not start.
    pub fn start(bin: &Path, cert: &ServerCertificate) -> TlsServer {
        let dir = tempfile::Builder::new()
            .prefix("hushpay-pgtls-")
            .tempdir()
            .expect("temporary directory");
        let port = free_port();
        let server = TlsServer {
            bin: bin.to_owned(),
            dir,
            port,
        };
        let root = server.dir.path();
        let (crt, key) = (root.join("server.crt"), root.join("server.key"));
        std::fs::write(&crt, &cert.cert_pem).expect("write server.crt");
        std::fs::write(&key, &cert.key_pem).expect("write server.key");
        chmod(&key, 0o600);
        if is_root() {
            let out = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(root)
                .output()
                .expect("run chown");
            assert!(
                out.status.success(),
                "chown to the postgres user (PostgreSQL refuses to run as root): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let data = root.join("data");
        server.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "--no-sync".as_ref(),
                "--encoding=UTF8".as_ref(),
            ],
        );
        let conf = format!(
            "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{dir}'\n\
             ssl = on\nssl_cert_file = '{crt}'\nssl_key_file = '{key}'\n\
             fsync = off\nshared_buffers = 16MB\nmax_connections = 20\n",
            dir = root.display(),
            crt = crt.display(),
            key = key.display(),
        );
        append(&data.join("postgresql.conf"), &conf);
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .expect("write pg_hba.conf");
        let log = root.join("server.log");
        let out = server.try_run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "30".as_ref(),
                "start".as_ref(),
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        server
    }

    fn run(&self, tool: &str, args: &[&std::ffi::OsStr]) {
        let out = self.try_run(tool, args);
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `tool` from the server's binaries, as `postgres` when this process is root.
    fn try_run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> Output {
        let program = self.bin.join(tool);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        if data.join("postmaster.pid").exists() {
            let out = self.try_run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-m".as_ref(),
                    "immediate".as_ref(),
                    "-w".as_ref(),
                    "stop".as_ref(),
                ],
            );
            if !out.status.success() {
                eprintln!(
                    "warning: pg_ctl stop failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        // the TempDir removes the directory after this
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open postgresql.conf");
    f.write_all(text.as_bytes())
        .expect("append postgresql.conf");
}
