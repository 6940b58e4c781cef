"""OAuth 2.0, authorization code with PKCE (RFC 6749, 7636, 8252, 9700, 7009): the requests and answers
(:mod:`.messages`), the login's :class:`~.dance.OAuth2Dance`, the cross-process :mod:`.refresh`, and the
manual :class:`~.flow.Flow2` / :class:`~.flow.SyncFlow2`."""
