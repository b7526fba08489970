"""The one JSON line every peer prints, in the shape mercury-bench prints."""
import json
import resource


def report(client, quotes, messages, wall, cpu):
    """Figures of a firehose read: `wall` and `cpu` in seconds, from the first quote."""
    print(json.dumps({
        "client": client,
        "quotes": quotes,
        "messages": messages,
        "wall_ms": round(wall * 1000),
        "messages_per_s": round(messages / wall),
        "quotes_per_s": round(quotes / wall),
        "cpu_ns_per_message": round(cpu * 1e9 / max(messages, 1)),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))
