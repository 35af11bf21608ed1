//! Certificates for trying HTTPS on this machine: a certificate authority of your own, a
//! server certificate for `localhost` and `127.0.0.1` signed by it, and a client certificate
//! for mutual TLS, written as PEM files into a directory.
//!
//! ```text
//! cargo run --example dev_cert -- target/dev-cert
//! cargo run --example bench_server -- --port 8443 \
//!     --tls-cert target/dev-cert/cert.pem --tls-key target/dev-cert/key.pem
//! curl --cacert target/dev-cert/ca.pem --http2 https://localhost:8443/json
//! ```
//!
//! Files: `ca.pem` (the authority: give it to clients, never to the server), `cert.pem` and
//! `key.pem` (the server's), `client.pem` and `client-key.pem` (a client's, signed by the
//! same authority). The authority's key is not kept: nothing more can be signed with it.
//! For local use only: anyone holding `key.pem` can pose as the server.

#![allow(
    clippy::print_stdout,
    reason = "an example talks to the person running it"
)]

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

fn make(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Portico development authority");
    let ca = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf = |names: Vec<String>, name: &str, purpose| -> Result<_, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names)?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![purpose];
        Ok((params.signed_by(&key, &issuer)?, key))
    };
    let server_names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let (server, server_key) = leaf(
        server_names,
        "localhost",
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    let (client, client_key) = leaf(
        Vec::new(),
        "dev client",
        ExtendedKeyUsagePurpose::ClientAuth,
    )?;

    std::fs::create_dir_all(dir)?;
    for (file, text) in [
        ("ca.pem", ca.pem()),
        ("cert.pem", server.pem()),
        ("key.pem", server_key.serialize_pem()),
        ("client.pem", client.pem()),
        ("client-key.pem", client_key.serialize_pem()),
    ] {
        std::fs::write(dir.join(file), text)?;
    }
    Ok(())
}

fn main() {
    let dir = match std::env::args().nth(1) {
        Some(dir) if !dir.starts_with('-') => PathBuf::from(dir),
        _ => {
            eprintln!("usage: dev_cert DIRECTORY");
            std::process::exit(2);
        }
    };
    if let Err(err) = make(&dir) {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
    println!(
        "wrote ca.pem, cert.pem, key.pem, client.pem and client-key.pem to {}",
        dir.display()
    );
}
