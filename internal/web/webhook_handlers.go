package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/gin-gonic/gin"
)

// MountWebhooks adds the admin API for integrators' event endpoints.
func MountWebhooks(s *Server) {
	g := s.API.Group("/webhooks", RequireRole(store.RoleAdmin))
	g.GET("", s.listWebhooks)
	g.POST("", s.createWebhook)
	g.DELETE("/:id", s.deleteWebhook)
	g.GET("/:id/deliveries", s.webhookDeliveries)
}

func (s *Server) listWebhooks(c *gin.Context) {
	list, err := s.deps.Store.ListWebhooks(c.Request.Context())
	if err != nil {
		jsonError(c, http.StatusInternalServerError, "could not list webhooks")
		return
	}
	c.JSON(http.StatusOK, gin.H{"webhooks": list})
}

type createWebhookRequest struct {
	URL    string   `json:"url"`
	Secret string   `json:"secret"`
	Events []string `json:"events"`
}

func (s *Server) createWebhook(c *gin.Context) {
	var req createWebhookRequest
	if !decodeJSON(c, &req) {
		return
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		jsonError(c, http.StatusBadRequest, "url must be an absolute http(s) URL")
		return
	}
	known := map[string]bool{}
	for _, e := range store.WebhookEvents {
		known[e] = true
	}
	for _, e := range req.Events {
		if !known[e] && e != "complaint.created" && e != "complaint.updated" {
			jsonError(c, http.StatusBadRequest, "unknown event "+strconv.Quote(e))
			return
		}
	}
	if req.Secret == "" {
		req.Secret = auth.GeneratePassword() + auth.GeneratePassword()
	}
	w, err := s.deps.Store.CreateWebhook(c.Request.Context(), store.Webhook{URL: req.URL, Secret: req.Secret, Events: req.Events})
	if err != nil {
		jsonError(c, http.StatusInternalServerError, "could not create webhook")
		return
	}
	c.JSON(http.StatusCreated, gin.H{"webhook": w})
}

func (s *Server) deleteWebhook(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	if err := s.deps.Store.DeleteWebhook(c.Request.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			jsonError(c, http.StatusNotFound, "no such webhook")
			return
		}
		jsonError(c, http.StatusInternalServerError, "could not delete webhook")
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) webhookDeliveries(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	list, err := s.deps.Store.Deliveries(c.Request.Context(), id, 200)
	if err != nil {
		jsonError(c, http.StatusInternalServerError, "could not list deliveries")
		return
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": list})
}
