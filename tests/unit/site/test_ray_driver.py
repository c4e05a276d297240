"""The Ray driver's reading of how an actor died."""

from chia.site.ray_driver import death_cause


def test_death_cause_reads_rays_exit_type():
    text = (
        "The actor died unexpectedly before finishing this task.\n\tclass_name: _HostActor\n"
        "\tpid: 7546\n\tnamespace: n\n\tip: 127.0.0.1\nThe actor is dead because its worker "
        "process has died. Worker exit type: SYSTEM_ERROR Worker exit detail: Worker "
        "unexpectedly exits with a connection error code 2. End of file."
    )
    assert death_cause(Exception(text)) == "worker process 7546 died (SYSTEM_ERROR)"
    assert death_cause(Exception("The actor died because its node has died.")) == (
        "its Ray node died"
    )
