package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/gin-gonic/gin"
)

// MountCustomers adds the customer API to /api/v1:
//
//	GET    /customers?phone=|email=|chat=   look a customer up by address (any common format)
//	GET    /customers?tier=&segment=&lifecycle=&limit=&offset=   list
//	POST   /customers                        create {external_id, name, company, language, notes, identities:[{kind,value}]}
//	GET    /customers/:id/profile            the screen-pop payload (customer.Profile)
//	POST   /customers/:id/identities         link {kind, value, verified}
//	POST   /customers/:id/orders             add {external_id, amount, margin, currency, ordered_at, paid_on_time}
//	POST   /customers/:id/merge              {"from": id} (supervisor+)
//	PUT    /customers/:id/pin                {"tier": "gold"} (supervisor+)
//	DELETE /customers/:id/pin                (supervisor+)
func MountCustomers(s *Server, svc *customer.Service) {
	h := &customerHandlers{s: s, svc: svc}
	g := s.API.Group("/customers")
	g.GET("", h.list)
	g.POST("", h.create)
	g.GET("/:id/profile", h.profile)
	g.POST("/:id/identities", h.link)
	g.POST("/:id/orders", h.addOrder)
	sup := g.Group("", RequireRole(store.RoleSupervisor))
	sup.POST("/:id/merge", h.merge)
	sup.PUT("/:id/pin", h.pin)
	sup.DELETE("/:id/pin", h.unpin)
}

type customerHandlers struct {
	s   *Server
	svc *customer.Service
}

func customerID(c *gin.Context) (contact.CustomerID, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		jsonError(c, http.StatusBadRequest, "customer id must be a positive integer")
		return 0, false
	}
	return contact.CustomerID(id), true
}

// fail maps domain errors to statuses.
func (h *customerHandlers) fail(c *gin.Context, op string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		jsonError(c, http.StatusNotFound, "customer not found")
	case errors.Is(err, store.ErrConflict):
		jsonError(c, http.StatusConflict, err.Error())
	case errors.Is(err, customer.ErrInvalidIdentity), errors.Is(err, customer.ErrInvalid):
		jsonError(c, http.StatusBadRequest, err.Error())
	default:
		h.s.deps.Log.Error(op, "err", err)
		jsonError(c, http.StatusInternalServerError, "could not "+op)
	}
}

func (h *customerHandlers) list(c *gin.Context) {
	ctx := c.Request.Context()
	for _, k := range []contact.IdentityKind{contact.Phone, contact.EmailAddr, contact.Visitor} {
		v, ok := c.GetQuery(string(k))
		if !ok {
			continue
		}
		m, err := h.svc.Resolve(ctx, k, v)
		switch {
		case errors.Is(err, customer.ErrUnknown):
			c.JSON(http.StatusOK, gin.H{"customers": []any{}})
		case err != nil:
			h.fail(c, "look up customer", err)
		default:
			p, err := h.svc.Profile(ctx, m.CustomerID)
			if err != nil {
				h.fail(c, "look up customer", err)
				return
			}
			c.JSON(http.StatusOK, gin.H{"customers": []gin.H{{"id": p.ID, "external_id": p.ExternalID, "name": p.Name, "tier": p.Tier}}})
		}
		return
	}
	f := store.CustomerFilter{Tier: c.Query("tier"), Segment: c.Query("segment"), Lifecycle: c.Query("lifecycle")}
	var err error
	if v := c.Query("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 1000 {
			jsonError(c, http.StatusBadRequest, "limit must be 1..1000")
			return
		}
	}
	if v := c.Query("offset"); v != "" {
		if f.Offset, err = strconv.Atoi(v); err != nil || f.Offset < 0 {
			jsonError(c, http.StatusBadRequest, "offset must be a non-negative integer")
			return
		}
	}
	list, err := h.svc.List(ctx, f)
	if err != nil {
		h.fail(c, "list customers", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"customers": list})
}

func (h *customerHandlers) create(c *gin.Context) {
	var req customer.NewCustomer
	if !decodeJSON(c, &req) {
		return
	}
	if req.Name == "" && len(req.Identities) == 0 {
		jsonError(c, http.StatusBadRequest, "name or an identity is required")
		return
	}
	cu, err := h.svc.Create(c.Request.Context(), req)
	if err != nil {
		h.fail(c, "create customer", err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"customer": cu})
}

func (h *customerHandlers) profile(c *gin.Context) {
	id, ok := customerID(c)
	if !ok {
		return
	}
	p, err := h.svc.Profile(c.Request.Context(), id)
	if err != nil {
		h.fail(c, "get profile", err)
		return
	}
	c.JSON(http.StatusOK, p)
}

type linkRequest struct {
	Kind     contact.IdentityKind `json:"kind"`
	Value    string               `json:"value"`
	Verified bool                 `json:"verified"`
}

func (h *customerHandlers) link(c *gin.Context) {
	id, ok := customerID(c)
	if !ok {
		return
	}
	var req linkRequest
	if !decodeJSON(c, &req) {
		return
	}
	out, err := h.svc.Link(c.Request.Context(), id, req.Kind, req.Value, req.Verified)
	if err != nil {
		h.fail(c, "link identity", err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"identity": out})
}

type orderRequest struct {
	ExternalID string   `json:"external_id"`
	Amount     *float64 `json:"amount"`
	Margin     *float64 `json:"margin"`
	Currency   string   `json:"currency"`
	OrderedAt  string   `json:"ordered_at"`
	PaidOnTime *bool    `json:"paid_on_time"`
}

func (h *customerHandlers) addOrder(c *gin.Context) {
	id, ok := customerID(c)
	if !ok {
		return
	}
	var req orderRequest
	if !decodeJSON(c, &req) {
		return
	}
	if req.Amount == nil {
		jsonError(c, http.StatusBadRequest, "amount is required")
		return
	}
	o := customer.NewOrder{ExternalID: req.ExternalID, Amount: *req.Amount, Margin: req.Margin, Currency: req.Currency, PaidOnTime: req.PaidOnTime}
	if req.OrderedAt != "" {
		t, err := time.Parse(time.RFC3339, req.OrderedAt)
		if err != nil {
			if t, err = time.Parse("2006-01-02", req.OrderedAt); err != nil {
				jsonError(c, http.StatusBadRequest, "ordered_at must be RFC 3339 or YYYY-MM-DD")
				return
			}
		}
		o.OrderedAt = t
	}
	out, err := h.svc.AddOrder(c.Request.Context(), id, o)
	if err != nil {
		h.fail(c, "add order", err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"order": out})
}

type mergeRequest struct {
	From contact.CustomerID `json:"from"`
}

func (h *customerHandlers) merge(c *gin.Context) {
	id, ok := customerID(c)
	if !ok {
		return
	}
	var req mergeRequest
	if !decodeJSON(c, &req) {
		return
	}
	if req.From <= 0 || req.From == id {
		jsonError(c, http.StatusBadRequest, "from must be another customer's id")
		return
	}
	if err := h.svc.Merge(c.Request.Context(), id, req.From); err != nil {
		h.fail(c, "merge customers", err)
		return
	}
	h.profile(c)
}

type pinRequest struct {
	Tier string `json:"tier"`
}

func (h *customerHandlers) pin(c *gin.Context) {
	id, ok := customerID(c)
	if !ok {
		return
	}
	var req pinRequest
	if !decodeJSON(c, &req) {
		return
	}
	if !customer.ValidPinTier(req.Tier) {
		jsonError(c, http.StatusBadRequest, "tier must be platinum, gold, silver or bronze")
		return
	}
	if err := h.svc.Pin(c.Request.Context(), id, req.Tier); err != nil {
		h.fail(c, "pin tier", err)
		return
	}
	h.profile(c)
}

func (h *customerHandlers) unpin(c *gin.Context) {
	id, ok := customerID(c)
	if !ok {
		return
	}
	if err := h.svc.Pin(c.Request.Context(), id, ""); err != nil {
		h.fail(c, "unpin tier", err)
		return
	}
	h.profile(c)
}
