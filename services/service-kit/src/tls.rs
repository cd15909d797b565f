//! The process's TLS provider: ring, as the workspace builds reqwest and sqlx without one of
//! their own, so `https://` URLs (a remote backend, JWKS, an LLM, a hosted PostgreSQL) work.

/// Installs ring as rustls' process-wide provider. Calling it again is harmless: an error only
/// means a provider is already installed, which is then the one used.
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_provider_is_installed_once_and_again_harmlessly() {
        super::install_provider();
        super::install_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
