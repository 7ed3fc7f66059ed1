"""Server mixin for the vdirsyncer 0.21.0 storage test suite (tests/storage/dav/).

run.sh copies this file to tests/storage/servers/<DAV_SERVER>/__init__.py inside the unpacked
vdirsyncer sdist. It points every storage test at an already running CardDAV server given by the
environment (DAV_URL, DAV_USER, DAV_PASS) instead of the docker containers upstream uses. Each test
gets a fresh address book made by vdirsyncer's own create_collection (discovery of the home set,
then an extended MKCOL); the suite's slow_create_collection fixture DELETEs it afterwards.
"""

from __future__ import annotations

import os

import pytest


class ServerMixin:
    @pytest.fixture
    def get_storage_args(self, request, tmpdir, slow_create_collection, aio_connector):
        async def inner(collection="test"):
            args = {
                "url": os.environ["DAV_URL"],
                "username": os.environ["DAV_USER"],
                "password": os.environ["DAV_PASS"],
                "connector": aio_connector,
            }
            if collection is not None:
                args = await slow_create_collection(self.storage_class, args, collection)
            return args

        return inner
