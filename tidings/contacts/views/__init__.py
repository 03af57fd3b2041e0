"""Pages for contacts, companies, fields and imports. Thin: forms in, actions and selectors do the work.

Every object named in a URL is read through a selector scoped to request.workspace; an id of
another workspace raises DoesNotExist there and answers 404, exactly like one that does not exist.
"""
