//! Finding and configuring the real programs the tests drive (Prometheus, nginx), and ports for
//! them.

use std::path::{Path, PathBuf};

/// A port nobody listens on right now (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The path of a program the test drives (a real Prometheus, nginx…): `None`, with a loud
/// message, when it is not installed; under `CI` its absence fails the test.
pub fn real_part(program: &str) -> Option<PathBuf> {
    // Debian puts daemons such as nginx in /usr/sbin, which a user's PATH may lack.
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .chain(["/usr/sbin".into()])
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "`{program}` is not installed; .ci/run installs it (apt-get install {program})"
        );
        eprintln!("SKIPPED: `{program}` is not installed (apt-get install {program})");
    }
    found
}

/// How nginx balances and proxies, besides what every test's config has.
#[derive(Default)]
pub struct NginxRouting<'a> {
    /// Lines of the `upstream` block before its servers (e.g. `hash $http_mcp_session_id consistent;`).
    pub upstream: &'a str,
    /// Parameters of each `server` line (e.g. `max_fails=1 fail_timeout=2s`).
    pub server_options: &'a str,
    /// Further lines of the `location` block (e.g. `proxy_next_upstream …;`).
    pub location: &'a str,
}

/// An nginx configuration with everything under `dir`: a proxy on `listen` to `replicas` (ports
/// of 127.0.0.1), unbuffered, keeping the client's `Host`.
pub fn nginx_config(
    dir: &Path,
    listen: u16,
    replicas: &[u16],
    routing: NginxRouting<'_>,
) -> String {
    let servers: String = replicas
        .iter()
        .map(|port| format!("    server 127.0.0.1:{port} {};\n", routing.server_options))
        .collect();
    let (upstream, location) = (routing.upstream, routing.location);
    let d = dir.display();
    format!(
        "worker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
         upstream mcp {{\n    {upstream}\n{servers}  }}\n  \
         server {{\n    listen 127.0.0.1:{listen};\n    location / {{\n      proxy_pass http://mcp;\n      \
         proxy_http_version 1.1;\n      proxy_set_header Host $http_host;\n      proxy_buffering off;\n      \
         {location}\n    }}\n  }}\n}}\n"
    )
}
