/* libFuzzer target for src/mcp/jsonrpc.c and the result parsers of
 * src/mcp/protocol.c: one input is one JSON-RPC document from a server. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/jsonrpc.h"
#include "mcp/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mcp_client_info ci = {MCP_PROTOCOL_LATEST, "fuzz", "0", NULL};
    struct mcp_session s;
    struct jsonrpc_batch bt;
    struct errinfo ei;
    struct buf out;
    int64_t id;

    mcp_session_init(&s, NULL);
    buf_init(&out, 1 << 20);
    if (mcp_session_start(&s, &ci, &out, &ei) != ERR_OK ||                  /* id 1 */
        jsonrpc_build_tools_list(&s.rpc, NULL, &out, &id, &ei) != ERR_OK || /* id 2 */
        jsonrpc_build_tools_call(&s.rpc, "echo", NULL, NULL, &out, &id, &ei) != ERR_OK)
        abort();
    if (jsonrpc_parse(&s.rpc, (const char *)data, size, &bt, &ei) == ERR_OK) {
        for (size_t i = 0; i < bt.n; i++) {
            const struct jsonrpc_msg *m = &bt.msgs[i];
            buf_reset(&out);
            if (m->kind == JSONRPC_REQUEST) {
                if (jsonrpc_answer_default(m, &out, &ei) != ERR_OK)
                    abort();
            } else if (m->kind == JSONRPC_RESPONSE && !m->is_error) {
                if (m->id == 1) {
                    if (mcp_session_on_initialize(&s, m, &out, &ei) == ERR_OK && out.len == 0)
                        abort();
                } else if (m->id == 2) {
                    struct mcp_tool_list tl;
                    const char *next;
                    mcp_tool_list_init(&tl, NULL);
                    if (mcp_tool_list_add_page(&tl, m->result, &next, &ei) != ERR_OK ||
                        !tl.complete) {
                        if (mcp_tool_list_map_names(&tl, &ei) != ERR_OK)
                            abort();
                    }
                    for (size_t k = 0; k < tl.n; k++)
                        if (strlen(tl.tools[k].op) > MCP_OP_NAME_MAX)
                            abort();
                    mcp_tool_list_release(&tl);
                } else {
                    struct mcp_call_result cr;
                    if (mcp_parse_call_result(m->result, &cr, &ei) == ERR_OK && cr.content == NULL)
                        abort();
                    mcp_call_result_release(&cr);
                }
            }
        }
        jsonrpc_batch_release(&bt);
    }
    buf_release(&out);
    mcp_session_release(&s);
    return 0;
}
