from django.contrib import admin

from orgs.models import Membership, Organization


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "is_founder", "joined_at", "verified_at"]
    readonly_fields = ["joined_at"]
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["domain", "name", "created_at", "member_count"]
    search_fields = ["domain", "name"]
    inlines = [MembershipInline]

    @admin.display(description="members")
    def member_count(self, organization: Organization) -> int:
        return organization.memberships.count()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "is_founder", "verified_at"]
    list_filter = ["is_founder", "organization"]
    search_fields = ["user__email", "organization__domain"]
    raw_id_fields = ["user"]
