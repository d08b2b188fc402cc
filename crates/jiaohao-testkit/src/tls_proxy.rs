//! The hall's TLS proxy for the phone side, for real: Debian's nginx run unprivileged (a
//! high port, its own temporary folder, no system paths) with a throwaway certificate made by
//! `openssl req -x509`, using the repository's own `packaging/nginx` files with only the
//! listen address, the hub's address and the file paths replaced.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

const SITE: &str = include_str!("../../../packaging/nginx/jiaohao-public.conf");
const ROUTES: &str = include_str!("../../../packaging/nginx/jiaohao-public-routes.conf");

/// A running nginx in front of a hub, stopped when dropped.
pub struct TlsProxy {
    child: Child,
    /// `https://127.0.0.1:PORT`
    pub url: String,
    pub dir: tempfile::TempDir,
}

/// Where Debian puts nginx, if it is installed.
pub fn nginx() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
}

/// The deployment file with `from` replaced by `to`; fails if the file no longer holds `from`
/// (the test would otherwise silently run something else than what is deployed).
fn replace(text: &str, from: &str, to: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        text.contains(from),
        "packaging/nginx/jiaohao-public.conf no longer holds '{from}'"
    );
    Ok(text.replace(from, to))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl TlsProxy {
    /// Starts `nginx` in front of the hub at `hub` (`127.0.0.1:PORT`).
    pub fn start(nginx: &Path, hub: std::net::SocketAddr) -> anyhow::Result<TlsProxy> {
        let dir = tempfile::tempdir()?;
        let path = |name: &str| dir.path().join(name);
        let (cert, key) = (path("hall.crt"), path("hall.key"));
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("running openssl")?;
        anyhow::ensure!(
            made.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        std::fs::write(path("jiaohao-public-routes.conf"), ROUTES)?;
        let port = free_port()?;
        let site = replace(SITE, "server 127.0.0.1:8080;", &format!("server {hub};"))?;
        let site = replace(
            &site,
            "listen 443 ssl;",
            &format!("listen 127.0.0.1:{port} ssl;"),
        )?;
        let site = replace(&site, "listen [::]:443 ssl;", "")?;
        let site = replace(
            &site,
            "/etc/jiaohao/tls/hall.crt",
            cert.to_str().unwrap_or_default(),
        )?;
        let site = replace(
            &site,
            "/etc/jiaohao/tls/hall.key",
            key.to_str().unwrap_or_default(),
        )?;
        let site = replace(
            &site,
            "/etc/nginx/snippets/jiaohao-public-routes.conf",
            path("jiaohao-public-routes.conf")
                .to_str()
                .unwrap_or_default(),
        )?;
        std::fs::write(path("jiaohao-public.conf"), site)?;
        let temp = path("temp");
        std::fs::create_dir(&temp)?;
        let d = dir.path().display();
        // The frame Debian's /etc/nginx/nginx.conf gives a site, with every path in `dir`.
        let main = format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log warn;\nworker_processes 1;\nevents {{ worker_connections 512; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {t}/body;\n  proxy_temp_path {t}/proxy;\n  fastcgi_temp_path {t}/fastcgi;\n  uwsgi_temp_path {t}/uwsgi;\n  scgi_temp_path {t}/scgi;\n  include {d}/jiaohao-public.conf;\n}}\n",
            t = temp.display()
        );
        std::fs::write(path("nginx.conf"), main)?;
        // Run as root (CI), nginx's workers become `nobody`: they must be able to enter here.
        let open = |p: &Path, mode| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        };
        open(dir.path(), 0o755)?;
        open(&temp, 0o777)?;
        let checked = Command::new(nginx)
            .arg("-t")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(path("nginx.conf"))
            .output()?;
        anyhow::ensure!(
            checked.status.success(),
            "nginx -t: {}",
            String::from_utf8_lossy(&checked.stderr)
        );
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(path("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nginx")?;
        let proxy = TlsProxy {
            child,
            url: format!("https://127.0.0.1:{port}"),
            dir,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not listen: {}",
                std::fs::read_to_string(proxy.dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(proxy)
    }

    /// The certificate clients must trust (curl `--cacert`).
    pub fn certificate(&self) -> PathBuf {
        self.dir.path().join("hall.crt")
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        // TERM: nginx's fast shutdown, which closes held streams and stops its workers too.
        let _ = Command::new("kill")
            .args(["-s", "TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
