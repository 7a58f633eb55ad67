/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dirtytrack's tracepoints: each harvest's start and end, what each
 * source gave it, a ring found overflowed, and each ring reset (the calls
 * KVM ended early, the pages that became sticky).
 * Documentation/userspace-api/dirtytrack.rst lists them.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dirtytrack

#if !defined(_DIRTYTRACK_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _DIRTYTRACK_TRACE_H

#include <linux/tracepoint.h>

/* __assign_str() takes the field only since 6.10 (__string() has src). */
#ifdef DT_HAVE_ASSIGN_STR_1
#define dt_assign_str(field, src)	do { __assign_str(field); (void)(src); } while (0)
#else
#define dt_assign_str(field, src)	__assign_str(field, src)
#endif

TRACE_EVENT(dirtytrack_sync_start,
	    TP_PROTO(u32 tracker, const char *kind),
	    TP_ARGS(tracker, kind),
	    TP_STRUCT__entry(__field(u32, tracker)
			     __string(kind, kind)),
	    TP_fast_assign(__entry->tracker = tracker;
			   dt_assign_str(kind, kind);),
	    TP_printk("tracker=%u kind=%s", __entry->tracker, __get_str(kind))
);

TRACE_EVENT(dirtytrack_sync_end,
	    TP_PROTO(u32 tracker, const char *kind, int ret, u64 pages, u64 ns),
	    TP_ARGS(tracker, kind, ret, pages, ns),
	    TP_STRUCT__entry(__field(u32, tracker)
			     __string(kind, kind)
			     __field(int, ret)
			     __field(u64, pages)
			     __field(u64, ns)),
	    TP_fast_assign(__entry->tracker = tracker;
			   dt_assign_str(kind, kind);
			   __entry->ret = ret;
			   __entry->pages = pages;
			   __entry->ns = ns;),
	    TP_printk("tracker=%u kind=%s ret=%d pages=%llu ns=%llu",
		      __entry->tracker, __get_str(kind), __entry->ret,
		      __entry->pages, __entry->ns)
);

TRACE_EVENT(dirtytrack_harvest,
	    TP_PROTO(u32 tracker, const char *source, u64 pages, u64 invalid,
		     u64 errors, u64 ns),
	    TP_ARGS(tracker, source, pages, invalid, errors, ns),
	    TP_STRUCT__entry(__field(u32, tracker)
			     __string(source, source)
			     __field(u64, pages)
			     __field(u64, invalid)
			     __field(u64, errors)
			     __field(u64, ns)),
	    TP_fast_assign(__entry->tracker = tracker;
			   dt_assign_str(source, source);
			   __entry->pages = pages;
			   __entry->invalid = invalid;
			   __entry->errors = errors;
			   __entry->ns = ns;),
	    TP_printk("tracker=%u source=%s pages=%llu invalid=%llu errors=%llu ns=%llu",
		      __entry->tracker, __get_str(source), __entry->pages,
		      __entry->invalid, __entry->errors, __entry->ns)
);

TRACE_EVENT(dirtytrack_ring_overflow,
	    TP_PROTO(u32 tracker, u32 vcpu),
	    TP_ARGS(tracker, vcpu),
	    TP_STRUCT__entry(__field(u32, tracker)
			     __field(u32, vcpu)),
	    TP_fast_assign(__entry->tracker = tracker;
			   __entry->vcpu = vcpu;),
	    TP_printk("tracker=%u vcpu=%u", __entry->tracker, __entry->vcpu)
);

TRACE_EVENT(dirtytrack_ring_reset,
	    TP_PROTO(u32 tracker, int ret, u32 calls, u32 partial, u32 sticky),
	    TP_ARGS(tracker, ret, calls, partial, sticky),
	    TP_STRUCT__entry(__field(u32, tracker)
			     __field(int, ret)
			     __field(u32, calls)
			     __field(u32, partial)
			     __field(u32, sticky)),
	    TP_fast_assign(__entry->tracker = tracker;
			   __entry->ret = ret;
			   __entry->calls = calls;
			   __entry->partial = partial;
			   __entry->sticky = sticky;),
	    TP_printk("tracker=%u ret=%d calls=%u partial=%u sticky=%u",
		      __entry->tracker, __entry->ret, __entry->calls,
		      __entry->partial, __entry->sticky)
);

#endif /* _DIRTYTRACK_TRACE_H */

/* An out-of-tree module: the header is found beside its users. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
