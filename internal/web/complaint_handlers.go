package web

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/complaint"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/gin-gonic/gin"
)

// FeedbackRecorder stores a rating of a contact (the desk: it validates,
// stores and calls its OnFeedback hook).
type FeedbackRecorder interface {
	RecordFeedback(ctx context.Context, id contact.ID, csat int, nps *int, comment string) (store.Feedback, error)
}

// MountComplaints adds the complaint and feedback API to /api/v1:
//
//	POST  /complaints        {customer_id|contact_id, category, severity, description, owner_id}
//	GET   /complaints        ?status=&severity=&category=&customer=&agent=&overdue=true|false&from=&to=&limit=&offset=&format=csv
//	GET   /complaints/:id    the complaint and its audit trail
//	PATCH /complaints/:id    {status, owner_id, severity, category, resolution, verdict, note} (supervisor+)
//	POST  /feedback          {contact_id, csat, nps, comment}
//	GET   /feedback          ?customer=&agent=&contact=&queue=&channel=&from=&to=&limit=&format=csv
//
// Agents create complaints and feedback and see their own (complaints they
// created, own or whose contact they handled; feedback on their contacts);
// supervisors and admins see and change all. from/to are RFC 3339 times or
// YYYY-MM-DD dates (to: up to the end of that day). CSV with ?format=csv or
// Accept: text/csv.
func MountComplaints(s *Server, svc *complaint.Service, fb FeedbackRecorder) {
	h := &complaintHandlers{s: s, svc: svc, fb: fb}
	s.API.POST("/complaints", h.create)
	s.API.GET("/complaints", h.list)
	s.API.GET("/complaints/:id", h.get)
	s.API.PATCH("/complaints/:id", RequireRole(store.RoleSupervisor), h.update)
	s.API.POST("/feedback", h.addFeedback)
	s.API.GET("/feedback", h.listFeedback)
}

type complaintHandlers struct {
	s   *Server
	svc *complaint.Service
	fb  FeedbackRecorder
}

func (h *complaintHandlers) fail(c *gin.Context, op string, err error) {
	switch {
	case errors.Is(err, complaint.ErrInvalid), errors.Is(err, contact.ErrInvalid):
		jsonError(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, complaint.ErrTransition):
		jsonError(c, http.StatusConflict, err.Error())
	case errors.Is(err, complaint.ErrNotFound), errors.Is(err, store.ErrNotFound):
		jsonError(c, http.StatusNotFound, "not found")
	default:
		if strings.Contains(err.Error(), "not found") {
			jsonError(c, http.StatusNotFound, err.Error())
			return
		}
		h.s.deps.Log.Error(op, "err", err)
		jsonError(c, http.StatusInternalServerError, "could not "+op)
	}
}

// parseTime reads an RFC 3339 time or a date; a date as an upper bound
// means the end of that day.
func cqParseTime(v string, upper bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, time.Local)
	if err != nil {
		return time.Time{}, err
	}
	if upper {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// timeRange reads from/to query parameters; absent ones stay nil.
func cqTimeRange(c *gin.Context) (from, to *time.Time, ok bool) {
	for _, p := range []struct {
		name  string
		dst   **time.Time
		upper bool
	}{{"from", &from, false}, {"to", &to, true}} {
		v := c.Query(p.name)
		if v == "" {
			continue
		}
		t, err := cqParseTime(v, p.upper)
		if err != nil {
			jsonError(c, http.StatusBadRequest, p.name+" must be an RFC 3339 time or a YYYY-MM-DD date")
			return nil, nil, false
		}
		*p.dst = &t
	}
	if from != nil && to != nil && !to.After(*from) {
		jsonError(c, http.StatusBadRequest, "to must be after from")
		return nil, nil, false
	}
	return from, to, true
}

func cqQueryID(c *gin.Context, name string) (int64, bool) {
	v := c.Query(name)
	if v == "" {
		return 0, true
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		jsonError(c, http.StatusBadRequest, name+" must be a positive integer")
		return 0, false
	}
	return id, true
}

func cqQueryInt(c *gin.Context, name string, max int) (int, bool) {
	v := c.Query(name)
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		jsonError(c, http.StatusBadRequest, fmt.Sprintf("%s must be an integer from 0 to %d", name, max))
		return 0, false
	}
	return n, true
}

func cqOneOf(c *gin.Context, name string, allowed []string) (string, bool) {
	v := c.Query(name)
	if v == "" {
		return "", true
	}
	for _, a := range allowed {
		if a == v {
			return v, true
		}
	}
	jsonError(c, http.StatusBadRequest, fmt.Sprintf("%s %q: want one of %s", name, v, strings.Join(allowed, ", ")))
	return "", false
}

// wantsCSV: ?format=csv or Accept: text/csv.
func cqWantsCSV(c *gin.Context) bool {
	return c.Query("format") == "csv" || strings.Contains(c.GetHeader("Accept"), "text/csv")
}

func cqWriteCSV(c *gin.Context, name string, write func(w *csv.Writer)) {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	write(w)
	w.Flush()
}

func cqSeesAll(c *gin.Context) bool { return CurrentUser(c).Role.AtLeast(store.RoleSupervisor) }

func (h *complaintHandlers) create(c *gin.Context) {
	var req complaint.Draft
	if !decodeJSON(c, &req) {
		return
	}
	out, err := h.svc.Create(c.Request.Context(), contact.AgentID(CurrentUser(c).ID), req)
	if err != nil {
		h.fail(c, "create complaint", err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"complaint": out})
}

func (h *complaintHandlers) list(c *gin.Context) {
	var f store.ComplaintFilter
	var ok bool
	if f.Status, ok = cqOneOf(c, "status", complaint.Statuses); !ok {
		return
	}
	if f.Severity, ok = cqOneOf(c, "severity", complaint.Severities); !ok {
		return
	}
	if f.Category, ok = cqOneOf(c, "category", complaint.Categories); !ok {
		return
	}
	cust, ok := cqQueryID(c, "customer")
	if !ok {
		return
	}
	agent, ok := cqQueryID(c, "agent")
	if !ok {
		return
	}
	f.CustomerID, f.AgentID = contact.CustomerID(cust), contact.AgentID(agent)
	if v := c.Query("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			jsonError(c, http.StatusBadRequest, "overdue must be true or false")
			return
		}
		f.Overdue = &b
	}
	if f.From, f.To, ok = cqTimeRange(c); !ok {
		return
	}
	if f.Limit, ok = cqQueryInt(c, "limit", 10000); !ok {
		return
	}
	if f.Offset, ok = cqQueryInt(c, "offset", 1<<30); !ok {
		return
	}
	if !cqSeesAll(c) {
		f.Involving = contact.AgentID(CurrentUser(c).ID)
	}
	cs, err := h.svc.List(c.Request.Context(), f)
	if err != nil {
		h.fail(c, "list complaints", err)
		return
	}
	if cqWantsCSV(c) {
		cqWriteCSV(c, "complaints", func(w *csv.Writer) {
			_ = w.Write([]string{"id", "created_at", "customer_id", "contact_id", "category", "severity", "status", "owner_id",
				"agent_id", "due_at", "overdue", "resolved_at", "closed_at", "verdict", "description", "resolution"})
			for _, x := range cs {
				_ = w.Write([]string{fmt.Sprint(x.ID), x.CreatedAt.Format(time.RFC3339), fmt.Sprint(x.CustomerID), fmt.Sprint(x.ContactID),
					x.Category, x.Severity, x.Status, fmt.Sprint(x.OwnerID), fmt.Sprint(x.AgentID), x.DueAt.Format(time.RFC3339),
					strconv.FormatBool(x.Overdue), cqFmtTime(x.ResolvedAt), cqFmtTime(x.ClosedAt), x.Verdict, cqCsvSafe(x.Description), cqCsvSafe(x.Resolution)})
			}
		})
		return
	}
	c.JSON(http.StatusOK, gin.H{"complaints": cs})
}

func cqFmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339)
}

// csvSafe defuses spreadsheet formula injection in free text.
func cqCsvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func complaintID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		jsonError(c, http.StatusBadRequest, "complaint id must be a positive integer")
		return 0, false
	}
	return id, true
}

func (h *complaintHandlers) get(c *gin.Context) {
	id, ok := complaintID(c)
	if !ok {
		return
	}
	cp, evs, err := h.svc.Get(c.Request.Context(), id)
	if err != nil {
		h.fail(c, "get complaint", err)
		return
	}
	me := contact.AgentID(CurrentUser(c).ID)
	if !cqSeesAll(c) && cp.CreatedBy != me && cp.OwnerID != me && cp.AgentID != me {
		jsonError(c, http.StatusForbidden, "forbidden: not your complaint")
		return
	}
	c.JSON(http.StatusOK, gin.H{"complaint": cp, "audit": evs})
}

func (h *complaintHandlers) update(c *gin.Context) {
	id, ok := complaintID(c)
	if !ok {
		return
	}
	var ch complaint.Change
	if !decodeJSON(c, &ch) {
		return
	}
	out, err := h.svc.Update(c.Request.Context(), id, contact.AgentID(CurrentUser(c).ID), ch)
	if err != nil {
		h.fail(c, "update complaint", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"complaint": out})
}

type feedbackRequest struct {
	ContactID contact.ID `json:"contact_id"`
	CSAT      int        `json:"csat"`
	NPS       *int       `json:"nps"`
	Comment   string     `json:"comment"`
}

func (h *complaintHandlers) addFeedback(c *gin.Context) {
	var req feedbackRequest
	if !decodeJSON(c, &req) {
		return
	}
	if req.ContactID <= 0 {
		jsonError(c, http.StatusBadRequest, "contact_id must be a positive integer")
		return
	}
	if req.CSAT < 1 || req.CSAT > 5 {
		jsonError(c, http.StatusBadRequest, "csat must be 1 to 5")
		return
	}
	if req.NPS != nil && (*req.NPS < 0 || *req.NPS > 10) {
		jsonError(c, http.StatusBadRequest, "nps must be 0 to 10")
		return
	}
	f, err := h.fb.RecordFeedback(c.Request.Context(), req.ContactID, req.CSAT, req.NPS, req.Comment)
	if err != nil {
		h.fail(c, "record feedback", err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"feedback": f})
}

func (h *complaintHandlers) listFeedback(c *gin.Context) {
	var f store.FeedbackFilter
	var ok bool
	var cust, agent, cid int64
	if cust, ok = cqQueryID(c, "customer"); !ok {
		return
	}
	if agent, ok = cqQueryID(c, "agent"); !ok {
		return
	}
	if cid, ok = cqQueryID(c, "contact"); !ok {
		return
	}
	f.CustomerID, f.AgentID, f.ContactID = contact.CustomerID(cust), contact.AgentID(agent), contact.ID(cid)
	f.Queue, f.Channel = contact.QueueName(c.Query("queue")), c.Query("channel")
	if f.From, f.To, ok = cqTimeRange(c); !ok {
		return
	}
	if f.Limit, ok = cqQueryInt(c, "limit", 10000); !ok {
		return
	}
	if !cqSeesAll(c) {
		me := contact.AgentID(CurrentUser(c).ID)
		if f.AgentID != 0 && f.AgentID != me {
			jsonError(c, http.StatusForbidden, "forbidden: agents see their own feedback")
			return
		}
		f.AgentID = me
	}
	rows, err := h.fbList(c, f)
	if err != nil {
		h.fail(c, "list feedback", err)
		return
	}
	if cqWantsCSV(c) {
		cqWriteCSV(c, "feedback", func(w *csv.Writer) {
			_ = w.Write([]string{"id", "created_at", "contact_id", "customer_id", "agent_id", "queue", "channel", "csat", "nps", "comment"})
			for _, x := range rows {
				nps := ""
				if x.NPS != nil {
					nps = strconv.Itoa(*x.NPS)
				}
				_ = w.Write([]string{fmt.Sprint(x.ID), x.CreatedAt.Format(time.RFC3339), fmt.Sprint(x.ContactID), fmt.Sprint(x.CustomerID),
					fmt.Sprint(x.AgentID), string(x.Queue), x.Channel, strconv.Itoa(x.CSAT), nps, cqCsvSafe(x.Comment)})
			}
		})
		return
	}
	c.JSON(http.StatusOK, gin.H{"feedback": rows})
}

func (h *complaintHandlers) fbList(c *gin.Context, f store.FeedbackFilter) ([]store.FeedbackRow, error) {
	return h.s.deps.Store.ListFeedback(c.Request.Context(), f)
}
