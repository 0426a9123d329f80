# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""heat-deploy-worker: the background process of heat_deploy.

Every [deployment] sweep_interval seconds it stores passed deadlines as
FAILED deployments, publishes pending notifications and posts due
webhooks. Run one or more, on any hosts, beside the API: each transition
is claimed by one of them only, and one at a time publishes.
"""

import signal
import sys

from oslo_config import cfg
from oslo_log import log as logging

from heat_deploy import checks
from heat_deploy.db import engine as db_engine
from heat_deploy import notifier
from heat_deploy import service
from heat_deploy import worker

LOG = logging.getLogger(__name__)

CLI_OPTS = [
    cfg.BoolOpt('once', default=False,
                help='Sweep once and exit (for cron or a test) instead of '
                     'every [deployment] sweep_interval seconds.'),
]


def main(argv=None):
    conf = service.make_conf()
    conf.register_cli_opts(CLI_OPTS)
    try:
        conf = service.prepare_service(
            sys.argv[1:] if argv is None else argv, conf=conf)
        if conf.once:
            # One pass reports the database as it is now instead of
            # waiting through oslo.db's start-up retries; the loop outlives
            # outages anyway.
            conf.set_override('max_retries', 0, group='database')
        db_engine.configure(conf)
        sweeper = worker.make_sweeper(conf)
    except Exception as err:
        print('heat-deploy-worker: %s' % checks.one_line(err),
              file=sys.stderr)
        return 1
    # The API checks these with the database; the worker needs the same
    # causal reads of a Galera cluster (its leases hand work over between
    # hosts), and nothing else of the start-up checks.
    cluster = checks.check_galera(conf)
    if cluster.code == checks.FAILURE:
        print('heat-deploy-worker: %s' % cluster.line(), file=sys.stderr)
        return 1
    if cluster.code == checks.WARNING:
        LOG.warning('%s', cluster.line())
    if conf.once:
        return _sweep_once(sweeper)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: sweeper.stop())
    LOG.info('heat-deploy-worker sweeping every %d s',
             conf.deployment.sweep_interval)
    sweeper.run()
    LOG.info('heat-deploy-worker stopped')
    return 0


def _sweep_once(sweeper):
    """Run each step once; print their counts; returns the exit status."""
    counts, failed = [], False
    for what, step in sweeper.steps():
        try:
            counts.append(step())
        except Exception as err:
            # Which step: a bare socket error does not say whether the
            # database or the message bus failed.
            print('heat-deploy-worker: %s failed: %s'
                  % (what.capitalize(), checks.one_line(err)),
                  file=sys.stderr)
            if not isinstance(err, notifier.PublishFailed):
                return 1
            # The broker being away does not keep webhooks from being
            # posted.
            failed = True
    if failed:
        return 1
    pulled, *counts = counts
    summary = ('Stored %d passed deadline(s). Published %d notification(s). '
               'Posted %d webhook(s).' % tuple(counts[:3]))
    if counts[3:]:
        summary += (' Posted or retired the Zaqar queues of %d server(s).'
                    % counts[3])
    if pulled:
        summary = ('Applied pulled signals to %d deployment(s). %s'
                   % (pulled, summary))
    print(summary)
    return 0
