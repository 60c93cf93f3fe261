//! Hiding secrets when a config is printed: the password of a store URL.

/// `url` with the password of its authority replaced by `***` (`postgres://app:***@db/memlane`).
///
/// ```
/// # use memlane_server::config::redact_url;
/// assert_eq!(redact_url("postgres://app:s3cret@db:5432/m"), "postgres://app:***@db:5432/m");
/// assert_eq!(redact_url("redis://:s3cret@cache"), "redis://:***@cache");
/// assert_eq!(redact_url("./memlane-data"), "./memlane-data");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}
