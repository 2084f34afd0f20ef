"""The launcher holds a picked port until its child listens (issue 11 item 5): between the pick
and the child's bind nobody else may take it, and the child is not kept out by the hold."""

from __future__ import annotations

import socket

import pytest
from kepu_common import grpcio
from kepu_devstack.ports import PortHold


def test_a_held_port_is_refused_to_others_until_its_server_listens_there():
    hold = PortHold()
    other = socket.socket()
    try:
        with pytest.raises(OSError, match="in use"):  # another stack's pick, say
            other.bind(("127.0.0.1", hold.port))
        assert not hold.release_if_listening()  # nothing listens yet: still held

        server, bound = grpcio.make_server(hold.port, host="127.0.0.1")  # the child binds
        assert bound == hold.port
        server.start()
        try:
            assert hold.release_if_listening()
            with pytest.raises(OSError, match="in use"):  # now the server's, not the hold's
                PortHold(hold.port)
        finally:
            server.stop(0).wait()
    finally:
        other.close()
        hold.release()
