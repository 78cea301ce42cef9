"""Storage outages on Azurite: the storage is cut off in the middle of the work and comes back."""

import threading
import time

from ecom_assets.events.eventhubs import LandingWriter, checkpoint_store, event_line
from ecom_assets.events.landing import list_landing_files, read_landing_lines
from ecom_assets.keys import BRONZE_EVENTS
from ecom_assets.settings import EventHubsSettings
from ecom_assets.storage.lake import Lake
from ecom_assets_tests import fault_harness as harness
from ecom_assets_tests.factories import event, line
from ecom_assets_tests.test_eventhubs import HUB, NOON, checkpoints, partition, received


def test_an_outage_during_a_run_fails_it_in_one_line_naming_the_lake_and_a_rerun_succeeds(
    outage, uninterrupted_reference, tmp_path
):
    lake = Lake.from_settings()
    _, materialised, _ = uninterrupted_reference
    uninterrupted = harness.lake_state(Lake(str(materialised)), ignoring=harness.STORE_TIMES)
    harness.simulate_landing(lake)

    returncode, errors = harness.materialize_through_outage(lake, outage.cut, tmp_path / "home")

    assert returncode == 2, errors
    [message] = [text for text in errors.splitlines() if text.startswith("ecom materialize: error:")]
    assert f"lake {lake.uri} failed in" in message and "Connection refused" in message
    outage.restore()
    after_outage = harness.lake_state(lake, ignoring=harness.STORE_TIMES)
    nothing_yet = {key: harness.TableState(None, None) for key in harness.TABLES}
    assert harness.same_rows(after_outage[BRONZE_EVENTS].frame, uninterrupted[BRONZE_EVENTS].frame)
    assert harness.torn_tables(nothing_yet, after_outage, uninterrupted) == []
    rerun = harness.materialize(lake.uri, tmp_path / "home")
    assert rerun.returncode == 0, rerun.stderr
    assert harness.differences(uninterrupted, harness.lake_state(lake, ignoring=harness.STORE_TIMES)) == []


def test_ingest_holds_its_checkpoint_through_an_outage_and_lands_every_event_once(outage):
    lake = Lake.from_settings()
    settings = EventHubsSettings(name=HUB, checkpoint_container=f"checkpoints-{lake.azure.container}")
    store = checkpoint_store(lake, settings)
    hub = [received(line(event(number)), number, NOON) for number in range(9)]
    writer = LandingWriter(lake, HUB)
    writer(partition(store), hub[:3])

    outage.cut()
    during_outage = threading.Thread(target=writer, args=(partition(store), hub[3:6]))
    during_outage.start()
    time.sleep(2)  # a two-second outage: the landing write waits in its retries, nothing is checkpointed
    assert during_outage.is_alive() and writer.counts.checkpoints == 1
    outage.restore()
    during_outage.join(timeout=120)
    writer(partition(store), hub[6:])

    assert checkpoints(store) == {"0": 8} and writer.counts.checkpoints == 3
    landed = [
        text for path in list_landing_files(lake, NOON.date()) for text in read_landing_lines(lake, path)
    ]
    assert sorted(landed) == sorted(event_line(sent) for sent in hub)
