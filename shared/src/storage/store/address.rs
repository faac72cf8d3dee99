//! Where the MongoDB server is: `host:port` or a `mongodb://` URI, parsed by the driver only,
//! and shown in messages without a password.

use mongodb::options::{ConnectionString, HostInfo, ServerAddress};

/// The port of a server address that names none.
pub const DEFAULT_PORT: u16 = 27017;
/// The server used when the command line names none: `127.0.0.1:27017`.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:27017";

/// Where the MongoDB server is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MongoAddress {
    /// `host:port` (or just `host`, port 27017), connected to directly, no user, no TLS.
    HostPort(String),
    /// A full `mongodb://` or `mongodb+srv://` URI; user, password, TLS and other options pass
    /// through to the driver.
    Uri(String),
}

impl MongoAddress {
    /// The server the command line names: `--uri` over `--mongo`, else [`DEFAULT_ADDRESS`].
    pub fn from_flags(uri: Option<&str>, host_port: Option<&str>) -> Self {
        match (uri, host_port) {
            (Some(uri), _) => MongoAddress::Uri(uri.to_owned()),
            (None, Some(hp)) => MongoAddress::HostPort(hp.to_owned()),
            (None, None) => MongoAddress::HostPort(DEFAULT_ADDRESS.to_owned()),
        }
    }

    /// The TCP servers the address names, `(host, port)`, as the driver parses it. A
    /// `mongodb+srv://` URI names a DNS record that is resolved only when connecting: it gives
    /// no servers here, nor does a Unix socket path.
    pub fn tcp_servers(&self) -> Result<Vec<(String, u16)>, mongodb::error::Error> {
        let servers = match self {
            MongoAddress::HostPort(hp) => vec![ServerAddress::parse(hp)?],
            MongoAddress::Uri(uri) => match ConnectionString::parse(uri)?.host_info {
                HostInfo::HostIdentifiers(hosts) => hosts,
                // A DNS record, or a kind of address this driver version added.
                _ => Vec::new(),
            },
        };
        Ok(servers
            .into_iter()
            .filter_map(|server| match server {
                ServerAddress::Tcp { host, port } => Some((host, port.unwrap_or(DEFAULT_PORT))),
                _ => None,
            })
            .collect())
    }

    /// The address for messages: a URI as the driver parses it, with its user but never its
    /// password (`***`) nor its options.
    pub fn display(&self) -> String {
        let uri = match self {
            MongoAddress::HostPort(hp) => return hp.clone(),
            MongoAddress::Uri(uri) => uri,
        };
        let Ok(parsed) = ConnectionString::parse(uri) else {
            return "the URI given (not shown: it is not a valid MongoDB URI and may hold a \
                    password)"
                .to_owned();
        };
        let user = parsed
            .credential
            .and_then(|c| c.username)
            .map(|user| format!("{user}:***@"))
            .unwrap_or_default();
        match parsed.host_info {
            HostInfo::HostIdentifiers(hosts) => {
                let hosts: Vec<String> = hosts.iter().map(ToString::to_string).collect();
                format!("mongodb://{user}{}", hosts.join(","))
            }
            HostInfo::DnsRecord(name) => format!("mongodb+srv://{user}{name}"),
            _ => {
                "the URI given (not shown: this version cannot show its kind of address)".to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_passwords_are_redacted_in_messages() {
        let uri = |u: &str| MongoAddress::Uri(u.to_owned()).display();
        assert_eq!(
            uri("mongodb://ann:s3cret@db.example:27017/?tls=true"),
            "mongodb://ann:***@db.example:27017"
        );
        assert_eq!(uri("mongodb://db"), "mongodb://db:27017");
        assert_eq!(
            uri("mongodb://ann:s3cret@a:1,b:2/x?replicaSet=rs"),
            "mongodb://ann:***@a:1,b:2"
        );
        assert_eq!(
            uri("mongodb+srv://ann:s3cret@cluster.example/x"),
            "mongodb+srv://ann:***@cluster.example"
        );
        let bad = uri("mongodb://ann:s3cret@/");
        assert!(!bad.contains("s3cret"), "{bad}");
        assert_eq!(
            MongoAddress::HostPort("127.0.0.1:1".into()).display(),
            "127.0.0.1:1"
        );
    }
}
