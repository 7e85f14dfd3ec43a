"""The organisers' console: ``/console/...``, server-rendered pages over the domains' services.

Staff (organiser, official, gate) sign in with a cookie; every form carries Litestar's CSRF
token; each page calls the same service method as the JSON API route, so a rule exists
once. ``docs/console.md`` says how a page is built.
"""
