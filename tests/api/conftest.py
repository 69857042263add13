import pytest
from rest_framework.test import APIClient

from api.tokens import token_create


@pytest.fixture
def api_client():
    """`api_client(user)`: a DRF client authenticated with the user's token."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            _, token = token_create(user=user, client="tests")
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make
