"""The embeddable report form for hosts: HTML pages a partner frames on its own site.

`/embed/<slug>/report` is a self-contained, accessible form in French and English that
stores a canonical report for that partner through `reports.service.create` (channel
`form`); `/embed/<slug>/button.js` opens it in a dialog. Plain Flask views, not partner API
operations: they are not in the OpenAPI document. The guide is in docs/partners.md.
"""
